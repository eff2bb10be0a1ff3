#ifndef CONFIG_H
#define CONFIG_H

#define GREETING "Hello"
#define TIMES 2

#endif
