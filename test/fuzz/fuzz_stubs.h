/* Shared between the fuzz targets and pg_stubs.c. */
#ifndef FUZZ_STUBS_H
#define FUZZ_STUBS_H

#include <setjmp.h>

extern sigjmp_buf *fuzz_error_jump;
extern char fuzz_last_message[1024];
extern int	fuzz_last_sqlstate;
extern void fuzz_free_all(void);

#endif
