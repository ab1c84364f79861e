// An empty assembly file: it lets main.go declare runtime.madvise without a
// body (go:linkname).
