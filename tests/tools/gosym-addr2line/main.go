// gosym-addr2line is `go tool addr2line` (cmd/addr2line over debug/gosym)
// for binaries Go 1.19's tool gets wrong:
//   - it also reads the .data.rel.ro.gopclntab section of PIE builds;
//   - with -runtime-text it bases function entries on runtime.text as the
//     runtime does (moduledata.text), not on the .text section, which in a
//     stripped, externally linked binary (Debian's caddy) starts earlier
//     with C start-up code, shifting every lookup.
// Same library, same output format; the tests check it matches
// `go tool addr2line` where both work.
package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"flag"
	"debug/gosym"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
)

// moduledataText finds runtime.firstmoduledata the way the runtime's data
// is laid out (Go 1.18+, 64-bit): its first word points at the pclntab and
// the next at the function name table; word 22 is text.
func moduledataText(f *elf.File, pclnAddr uint64, pcln []byte) uint64 {
	funcnameOff := binary.LittleEndian.Uint64(pcln[8+3*8:])
	var key [16]byte
	binary.LittleEndian.PutUint64(key[:], pclnAddr)
	binary.LittleEndian.PutUint64(key[8:], pclnAddr+funcnameOff)
	for _, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_WRITE == 0 {
			continue
		}
		d, err := s.Data()
		if err != nil {
			continue
		}
		for i := 0; ; {
			j := bytes.Index(d[i:], key[:])
			if j < 0 {
				break
			}
			at := i + j
			if at%8 == 0 && at+23*8 <= len(d) {
				return binary.LittleEndian.Uint64(d[at+22*8:])
			}
			i = at + 1
		}
	}
	log.Fatal("runtime.firstmoduledata not found")
	return 0
}

func main() {
	runtimeText := flag.Bool("runtime-text", false, "base entries on runtime.text (moduledata), as the runtime does")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: gosym-addr2line [-runtime-text] BINARY < addrs")
	}
	f, err := elf.Open(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	var textStart uint64
	if s := f.Section(".text"); s != nil {
		textStart = s.Addr
	}
	s := f.Section(".gopclntab")
	if s == nil {
		s = f.Section(".data.rel.ro.gopclntab")
	}
	if s == nil {
		log.Fatal("no pclntab section")
	}
	data, err := s.Data()
	if err != nil {
		log.Fatal(err)
	}
	if *runtimeText {
		textStart = moduledataText(f, s.Addr, data)
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, textStart))
	if err != nil {
		log.Fatal(err)
	}
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		pc, _ := strconv.ParseUint(strings.TrimPrefix(in.Text(), "0x"), 16, 64)
		file, line, fn := tab.PCToLine(pc)
		name := "?"
		if fn != nil {
			name = fn.Name
		} else {
			file = "?"
			line = 0
		}
		fmt.Fprintf(out, "%s\n%s:%d\n", name, file, line)
	}
	out.Flush()
}
