// The method registry (methods/registry.h): every entry builds the method it names, unknown
// names are errors listing the known ones, and the recipes bt_train applies are the table
// docs/design.md §5 gives (the values train_config.cpp held before the registry; VICReg's from
// its paper: LARS, base lr 0.2 per 256 images, weight decay 1e-6).
#include <catch2/catch.hpp>

#include <set>

#include "methods/registry.h"
#include "tools/lib/train_config.h"

using namespace bt;
using namespace bt::methods;

TEST_CASE("method registry: each entry builds a method of its own name, once", "[methods][registry]") {
  std::set<std::string> seen;
  for (const MethodEntry& e : method_registry()) {
    INFO(e.name);
    CHECK(seen.insert(e.name).second);
    CHECK_FALSE(e.description.empty());
    MethodConfig c;
    c.method = e.name;
    c.backbone = {.arch = "resnet18", .stem = models::Stem::cifar, .width = 8};
    c.proj_hidden = 16, c.proj_out = 16, c.pred_hidden = 8;
    Rng rng(1);
    CHECK(make_method(c, rng)->name() == e.name);
    CHECK(&find_method(e.name) == &e);
  }
  CHECK(seen.count("barlow") == 1);
  CHECK(seen.count("simclr") == 1);
  CHECK(seen.count("vicreg") == 1);
}

TEST_CASE("method registry: an unknown name is an error listing every method", "[methods][registry]") {
  MethodConfig c;
  c.method = "mocov9";
  Rng rng(1);
  try {
    make_method(c, rng);
    FAIL("make_method accepted 'mocov9'");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find("'mocov9'") != std::string::npos);
    for (const std::string& name : method_names()) CHECK(what.find(name) != std::string::npos);
  }
  CHECK(method_names_text().find(", byol, simsiam") != std::string::npos);
}

TEST_CASE("method registry: bt_train's defaults are each method's recipe", "[methods][registry][train]") {
  struct Want {
    const char* method;
    const char* optimizer;
    double lr, wd, bias_lr_scale;
    const char* views;
  };
  for (const Want& w : {Want{"barlow", "lars", 0.3, 1e-4, 0.0048 / 0.2, "asymmetric"},
                        Want{"byol", "lars", 1.0, 1e-5, 1.0, "asymmetric"},
                        Want{"simsiam", "sgd", 0.5, 1e-5, 1.0, "simsiam"},
                        Want{"simclr", "lars", 0.4, 1e-4, 1.0, "symmetric"},
                        Want{"vicreg", "lars", 0.2, 1e-6, 1.0, "asymmetric"}}) {
    INFO(w.method);
    tools::TrainConfig c;
    c.model.method = w.method;
    c.epochs = 30;
    c.apply_method_defaults();
    CHECK(c.optimizer == w.optimizer);
    CHECK(c.lr == w.lr);
    CHECK(c.weight_decay == w.wd);
    CHECK(c.bias_lr_scale == w.bias_lr_scale);
    CHECK(c.views == w.views);
    CHECK(c.warmup_epochs == 3);
    CHECK(find_method(w.method).plots.cross_correlation_heatmap == (std::string(w.method) == "barlow"));
  }
  tools::TrainConfig flags;  // flags given by the user win over the recipe
  flags.model.method = "barlow";
  flags.optimizer = "sgd", flags.lr = 0.01, flags.weight_decay = 0, flags.views = "symmetric";
  flags.apply_method_defaults();
  CHECK(flags.optimizer == "sgd");
  CHECK(flags.lr == 0.01);
  CHECK(flags.weight_decay == 0);
  CHECK(flags.views == "symmetric");
}
