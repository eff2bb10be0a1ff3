#include "count.h"

int count_names(int argc) { return argc > 1 ? argc - 1 : 0; }
