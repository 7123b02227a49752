// The deployment doctor's shared parts: findings and their report, a seam
// over what the checks read from the host (files, commands, interfaces), the
// pure parsers of what they read, and the checks both programs run.
//
// Checks never change the host. Each finding says what is wrong and how to
// fix it; the exit status is 1 when any finding is a problem.
#pragma once

#include "common/doctor/checks.h"
#include "common/doctor/host.h"
#include "common/doctor/parsers.h"
#include "common/doctor/report.h"
