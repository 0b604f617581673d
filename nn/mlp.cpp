#include "nn/mlp.h"

namespace qnn::nn {

Mlp::Mlp(int64_t in, int64_t hidden, int64_t out, float drop, Generator& gen) : Module("Mlp") {
  QNN_CHECK(in > 0 && hidden > 0 && out >= 0, "Mlp",
            "got in " << in << ", hidden " << hidden << ", out " << out << " (expected > 0; out 0 means in)");
  fc1 = register_module("fc1", std::make_shared<Linear>(in, hidden, true, gen));
  act = register_module("act", std::make_shared<GELU>());
  drop1 = register_module("drop1", std::make_shared<Dropout>(drop, gen));
  fc2 = register_module("fc2", std::make_shared<Linear>(hidden, out > 0 ? out : in, true, gen));
  drop2 = register_module("drop2", std::make_shared<Dropout>(drop, gen));
}

Tensor Mlp::forward(const Tensor& x) {
  return drop2->forward(fc2->forward(drop1->forward(act->forward(fc1->forward(x)))));
}

}  // namespace qnn::nn
