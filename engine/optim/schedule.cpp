#include "engine/optim/schedule.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace bt::optim {

double WarmupCosine::operator()(int64_t step) const {
  BT_CHECK(warmup_steps >= 0 && total_steps > warmup_steps && step >= 0,
           "WarmupCosine: need 0 <= warmup_steps < total_steps and step >= 0, got warmup ",
           warmup_steps, ", total ", total_steps, ", step ", step);
  if (step < warmup_steps) return base_lr * double(step) / double(warmup_steps);
  if (step >= total_steps) return final_lr;
  const double progress = double(step - warmup_steps) / double(total_steps - warmup_steps);
  const double c = 0.5 * (1.0 + std::cos(M_PI * progress));
  return final_lr + (base_lr - final_lr) * c;
}

double ByolTau::operator()(int64_t step) const {
  BT_CHECK(total_steps > 0 && step >= 0, "ByolTau: need total_steps > 0 and step >= 0, got ",
           total_steps, ", ", step);
  const double k = double(std::min(step, total_steps));
  return 1.0 - (1.0 - base_tau) * (std::cos(M_PI * k / double(total_steps)) + 1.0) / 2.0;
}

}  // namespace bt::optim
