#include "cmd/cmd.h"
int cmd_inspect(int argc, char **argv, struct err *e)
{
	return err_set(e, ERR_INTERNAL, "in progress");
}
