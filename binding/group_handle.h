// A c10d process group as JavaScript sees it: a type-tagged external holding the group (binding/distributed.cpp).
#pragma once

#include <napi.h>

#include <memory>

#include "distributed.h"

namespace binding {

struct GroupState {
  std::unique_ptr<blip2::ProcessGroup> group;
  bool destroyed = false;  // set on the main thread when destroy() is called
};

// The group behind a handle from initProcessGroup(); throws a TypeError for anything else.
std::shared_ptr<GroupState> read_group(const Napi::Value& value);
blip2::ReduceOp read_reduce_op(const Napi::Value& value);
void RegisterDistributed(Napi::Env env, Napi::Object exports);

}  // namespace binding
