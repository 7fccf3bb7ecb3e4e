/* Moved to src/image/location.h (image locations are not the registry client).
 * Kept for src/build/build.c and src/scan/inventory.c until they include
 * the new path; remove then. */
#include "image/location.h"
