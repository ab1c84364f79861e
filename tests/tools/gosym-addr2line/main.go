// gosym-addr2line is `go tool addr2line` (cmd/addr2line over debug/gosym)
// for binaries Go 1.19's tool cannot open: it also reads the
// .data.rel.ro.gopclntab section of PIE builds. Same library, same output
// format; the tests check it matches `go tool addr2line` where both work.
package main

import (
	"bufio"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: gosym-addr2line BINARY < addrs")
	}
	f, err := elf.Open(os.Args[1])
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
