/*
 * libFuzzer target: bytes as a postern.yaml through config_load_buffer()
 * (the YAML scan, the table walker and every value parser).  It runs in an
 * empty temporary directory (removed at exit) so that relative file names
 * and policy globs resolve to nothing; give the fuzzer absolute paths.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "loader.h"
#include "log.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	dir[] = "/tmp/fuzz-config-XXXXXX";

static void
fuzz_rmdir(void)
{
	(void)rmdir(dir);	/* empty unless the config writes files */
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL || chdir(dir) == -1) {
		perror("fuzz_config: temporary directory");
		exit(1);
	}
	(void)atexit(fuzz_rmdir);
	log_init(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag	 d = { 0 };
	struct config	*cfg;

	cfg = config_load_buffer("postern.yaml", data, size, &d);
	if (cfg != NULL && d.nerrors != 0)
		abort();		/* the contract: NULL iff errors */
	if (cfg != NULL)
		(void)config_app_for_host(cfg, "a.example.com");
	config_unref(cfg);
	diag_free(&d);
	return 0;
}
