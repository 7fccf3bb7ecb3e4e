/* Placeholder until the scan command lands; replaced by its implementation. */
#include "cmd/cmd.h"

int cmd_scan(int argc, char **argv, struct err *e)
{
	return err_set(e, ERR_INTERNAL, "'bosun scan' is not implemented yet");
}
