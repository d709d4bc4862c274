/*
 * A function's entry by name, for a uprobe (--scope FUNC): the object file
 * that defines it and the file offset of its first instruction, as the
 * kernel's uprobes want them.
 *
 * A name matches a symbol when it is the symbol's name (plain C, a mangled
 * C++/Rust name as written), or the symbol's demangled name, whole
 * ("ns::Server::handle(Req&)") or without its parameters ("ns::Server::handle":
 * every overload then matches). Symbols come from .symtab, else .dynsym plus
 * the separate debug file or MiniDebugInfo when the object has them.
 */
#ifndef FUNCADDR_H
#define FUNCADDR_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/* Entries of one name kept (overloads, local copies): more are counted. */
#define FUNCADDR_MAX 8

struct funcaddr_loc {
	char path[PATH_MAX];	/* the object, as the kernel can open it from here */
	uint64_t offset;	/* file offset of the entry */
	uint64_t vaddr;		/* its ELF virtual address */
};

struct funcaddr {
	struct funcaddr_loc loc[FUNCADDR_MAX];	/* all in one object */
	uint32_t nr;
	uint32_t more;		/* matches past FUNCADDR_MAX, not kept */
	/* Where the search looked ("/usr/bin/x", "pid 12: /usr/bin/x and 7
	 * libraries"), unescaped: escape it to show it. */
	char where[PATH_MAX + 64];
};

/* Finds func in the ELF file at path. Returns 0 with out->nr >= 1,
 * -ENOENT when no symbol matches, or a negative errno (the file cannot be
 * read or is not ELF). out->where is set either way. */
int funcaddr_find_file(const char *path, const char *func, struct funcaddr *out);

/* Finds func in the objects process pid maps (executable file mappings):
 * its executable first, then the others in address order; the first object
 * that defines it wins (as the dynamic linker binds). Paths are given
 * through /proc/PID/root (or map_files for a deleted file). Returns 0,
 * -ENOENT, or -ESRCH when there is no such process. */
int funcaddr_find_pid(uint32_t pid, const char *func, struct funcaddr *out);

struct strbuf;
/* The user's line for a failed search (err from funcaddr_find_*), names
 * escaped, appended to msg: "--scope FUNC: no such function in WHERE". */
void funcaddr_explain(const char *func, int err, const struct funcaddr *fa, struct strbuf *msg);

/* The file a command name runs, as execvp finds it: a name holding a '/'
 * as it is, else the first executable regular file of that name in $PATH
 * (or the default path). Returns 0 with the path in out, or -ENOENT. */
int funcaddr_command_path(const char *cmd, char *out, size_t size);

#endif
