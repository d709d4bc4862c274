/* The "addr2line" subcommand: names ELF virtual addresses of one file. */
#ifndef ADDR2LINE_H
#define ADDR2LINE_H

/* sampletop addr2line -e FILE [--lines] [--no-demangle] [ADDR...]; addresses
 * from stdin when none are given. Returns the exit status. */
int addr2line_main(int argc, char **argv);

#endif
