/* Kernel symbols from /proc/kallsyms (text symbols, modules included), sorted. */
#ifndef KALLSYMS_H
#define KALLSYMS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct ksym {
	uint64_t addr;
	const char *name;	/* points into ksyms.names; "name [module]" for modules */
};

struct ksyms {
	struct ksym *syms;
	size_t nr;
	char *names;
	size_t names_len;
	bool hidden;		/* every address read as 0: kptr_restrict hides them */
};

/* Loads from an open kallsyms-format stream (tests pass their own). */
struct ksyms *ksyms_load_file(FILE *f);
/* Loads /proc/kallsyms. NULL if it cannot be read. */
struct ksyms *ksyms_load(void);
void ksyms_free(struct ksyms *k);
/* The symbol containing addr (the last one at or below it), or NULL. */
const struct ksym *ksyms_lookup(const struct ksyms *k, uint64_t addr);

#endif
