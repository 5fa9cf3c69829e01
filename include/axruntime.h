/*
 * axruntime.h: kept for code written against earlier versions of this project.
 * The header is <axruntime/axruntime.h> (C) and <axruntime/axruntime.hpp> (C++17).
 */
#ifndef AXRUNTIME_H
#define AXRUNTIME_H
#include "axruntime/axruntime.h"
#endif /* AXRUNTIME_H */
