/* Placeholder until the keygen command lands; replaced by its implementation. */
#include "cmd/cmd.h"

int cmd_keygen(int argc, char **argv, struct err *e)
{
	return err_set(e, ERR_INTERNAL, "'bosun keygen' is not implemented yet");
}
