/* SPDX-License-Identifier: MIT */
/* softsev's subcommands. */
#ifndef SOFTSEV_CLI_H
#define SOFTSEV_CLI_H

#include <stdbool.h>
#include <stdint.h>

int cmd_status(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_certs(int argc, char **argv);
int cmd_owner(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_qemu_args(int argc, char **argv);
/* -h or --help among the arguments: print usage to stdout, exit 0. */
bool cli_wants_help(int argc, char **argv);
/* The first of cands (relative to this binary's directory) that exists. */
int cli_find_sibling(const char *const *cands, char *out, size_t len);
/* Send one request to softsevd; the fd it returns (status), or the
 * connection itself for streams; -1 on failure. */
int cli_request_fd(const char *sock_path, uint32_t op);

#endif
