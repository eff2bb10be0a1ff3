#include <stdio.h>
#include "greet.h"

void greet(const char *name) {
    for (int i = 0; i < TIMES; i++) {
        printf("%s, %s!\n", GREETING, name);
    }
}
