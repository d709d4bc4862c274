/* Demangling through libiberty's cplus_demangle (C++, legacy Rust, Rust v0). */
#include "symbols/demangle.h"

#include <libiberty/demangle.h>
#include <string.h>

bool demangle_is_mangled(const char *name)
{
	return name[0] == '_' && (name[1] == 'Z' || name[1] == 'R' ||
				  (name[1] == '_' && name[2] == 'Z'));
}

char *demangle(const char *name)
{
	if (!demangle_is_mangled(name))
		return NULL;
	/* DMGL_AUTO tries Rust first (legacy Rust overlaps the C++ scheme), then C++. */
	return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
}
