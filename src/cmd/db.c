/* Placeholder until the db command lands; replaced by its implementation. */
#include "cmd/cmd.h"

int cmd_db(int argc, char **argv, struct err *e)
{
	return err_set(e, ERR_INTERNAL, "'bosun db' is not implemented yet");
}
