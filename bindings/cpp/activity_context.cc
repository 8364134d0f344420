#include "durable/activity_context.h"

namespace durable {

ActivityContext::ActivityContext(const v1::ActivityTask& task)
    : task_(task), metadata_(task.metadata().begin(), task.metadata().end()) {}

}  // namespace durable
