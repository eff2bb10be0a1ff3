#ifndef GREET_H
#define GREET_H
#include "config.h"

/* Prints the greeting for `name`. */
void greet(const char *name);

#endif
