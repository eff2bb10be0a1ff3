#ifndef COUNT_H
#define COUNT_H

/* How many arguments name someone to greet. */
int count_names(int argc);

#endif
