/* Placeholder until the attest command lands; replaced by its implementation. */
#include "cmd/cmd.h"

int cmd_attest(int argc, char **argv, struct err *e)
{
	return err_set(e, ERR_INTERNAL, "'bosun attest' is not implemented yet");
}
