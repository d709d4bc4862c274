/* C++ and Rust (legacy and v0) symbol names made readable, via libiberty. */
#ifndef SYMBOLS_DEMANGLE_H
#define SYMBOLS_DEMANGLE_H

#include <stdbool.h>

/* True when name looks mangled (Itanium C++ "_Z...", Rust v0 "_R..."). */
bool demangle_is_mangled(const char *name);
/* The demangled name (malloc'd, caller frees) with parameter types, or NULL
 * when name is not mangled or cannot be demangled. */
char *demangle(const char *name);

#endif
