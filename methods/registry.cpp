#include "methods/registry.h"

#include "methods/barlow_twins/barlow_twins.h"
#include "methods/byol/byol.h"
#include "methods/moco/moco.h"
#include "methods/rotation/rotation.h"
#include "methods/simclr/simclr.h"
#include "methods/simsiam/simsiam.h"
#include "methods/vicreg/vicreg.h"

namespace bt::methods {

const std::vector<MethodEntry>& method_registry() {
  static const std::vector<MethodEntry> entries{
      barlow_twins_entry(),
      byol_entry(),
      simsiam_entry(),
      simclr_entry(),
      vicreg_entry(),
      rotation_entry(),
      moco_entry(),
  };
  return entries;
}

}  // namespace bt::methods
