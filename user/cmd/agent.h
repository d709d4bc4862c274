/* sampletop agent: profiles the whole machine continuously and sends a
 * window of samples every few seconds to ClickHouse (see store/ch_*.h). */
#ifndef AGENT_H
#define AGENT_H

/* The agent subcommand (argv[0] is "agent"). Returns the exit code: 0, 1
 * (a runtime error, or windows that could not be sent by the end), 2
 * (usage). */
int agent_main(int argc, char **argv);

#endif
