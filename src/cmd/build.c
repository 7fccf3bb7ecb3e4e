/* Placeholder until the build command lands; replaced by its implementation. */
#include "cmd/cmd.h"

int cmd_build(int argc, char **argv, struct err *e)
{
	return err_set(e, ERR_INTERNAL, "'bosun build' is not implemented yet");
}
