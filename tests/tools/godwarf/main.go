// godwarf prints the offsets of Go runtime struct fields as the binary's own
// DWARF gives them, read with the standard library's debug/dwarf, not with
// gsmapper's code: the oracle for gsmapper's runtime layout.
//
//	godwarf BINARY <SPECS
//
// Each line of SPECS is "NAME STRUCT FIELD[.FIELD...]", for example
// "g.stack.lo runtime.g stack.lo"; the output is "NAME OFFSET" per line, or
// "NAME -1" where the binary's DWARF has no such field. It exits 1 when the
// binary has no DWARF.
package main

import (
	"bufio"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"strings"
)

func structs(d *dwarf.Data) map[string]*dwarf.StructType {
	out := map[string]*dwarf.StructType{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			return out
		}
		if e.Tag != dwarf.TagStructType {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if name == "" || out[name] != nil {
			continue
		}
		t, err := d.Type(e.Offset)
		if err != nil {
			continue
		}
		if st, ok := t.(*dwarf.StructType); ok {
			out[name] = st
		}
	}
}

// peel removes typedefs (Go's DWARF names struct types through them).
func peel(t dwarf.Type) dwarf.Type {
	for {
		td, ok := t.(*dwarf.TypedefType)
		if !ok {
			return t
		}
		t = td.Type
	}
}

func offset(st *dwarf.StructType, path []string) int64 {
	var off int64
	for i, name := range path {
		var found *dwarf.StructField
		for _, f := range st.Field {
			if f.Name == name {
				found = f
				break
			}
		}
		if found == nil {
			return -1
		}
		off += found.ByteOffset
		if i == len(path)-1 {
			return off
		}
		next, ok := peel(found.Type).(*dwarf.StructType)
		if !ok {
			return -1
		}
		st = next
	}
	return off
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: godwarf BINARY <SPECS")
		os.Exit(2)
	}
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "godwarf:", err)
		os.Exit(1)
	}
	d, err := f.DWARF()
	if err != nil {
		fmt.Fprintln(os.Stderr, "godwarf: no DWARF:", err)
		os.Exit(1)
	}
	all := structs(d)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		w := strings.Fields(in.Text())
		if len(w) != 3 {
			continue
		}
		off := int64(-1)
		if st := all[w[1]]; st != nil {
			off = offset(st, strings.Split(w[2], "."))
		}
		fmt.Printf("%s %d\n", w[0], off)
	}
}
