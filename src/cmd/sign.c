/* Placeholder until the sign command lands; replaced by its implementation. */
#include "cmd/cmd.h"

int cmd_sign(int argc, char **argv, struct err *e)
{
	return err_set(e, ERR_INTERNAL, "'bosun sign' is not implemented yet");
}
