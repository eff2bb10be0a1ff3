#include <stdio.h>
#include "count.h"
#include "greet.h"

int main(int argc, char **argv) {
    if (count_names(argc) == 0) {
        greet("world");
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        greet(argv[i]);
    }
    return 0;
}
