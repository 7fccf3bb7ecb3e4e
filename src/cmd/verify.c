/* Placeholder until the verify command lands; replaced by its implementation. */
#include "cmd/cmd.h"

int cmd_verify(int argc, char **argv, struct err *e)
{
	return err_set(e, ERR_INTERNAL, "'bosun verify' is not implemented yet");
}
