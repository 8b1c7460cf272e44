// The budget planner and the fixed rules, on a synthetic measurement.
#include <QTest>

#include <algorithm>

#include "v4/error.h"
#include "v4/quantize.h"

namespace {

// Two tensors over 256-element rows: "blk.0.ffn_down.weight" is 10x as sensitive as "blk.0.ffn_up.weight".
v4::quantize_measurement synthetic() {
    v4::quantize_measurement m;
    m.fixed_bytes = 1000;
    for (const char * name : {"blk.0.ffn_down.weight", "blk.0.ffn_up.weight"}) {
        v4::tensor_sensitivity t;
        t.name       = name;
        t.n_in       = 256;
        t.n_elements = 256 * 100;
        t.types      = {"q3_K", "q4_K", "q5_K", "q6_K", "q8_0"};
        t.bytes      = {11000, 14400, 17600, 21000, 27200};
        const double s = t.name == "blk.0.ffn_down.weight" ? 10.0 : 1.0;
        t.kl   = {0.1 * s, 0.03 * s, 0.01 * s, 0.003 * s, 0.0005 * s};
        t.proxy = t.kl;
        m.tensors.push_back(t);
    }
    return m;
}

} // namespace

class TestQuantPlan : public QObject {
    Q_OBJECT
private slots:
    void respectsTheBudgetAndFavoursTheSensitiveTensor() {
        const auto m = synthetic();
        for (uint64_t budget : {23000u, 30000u, 36000u, 45000u, 60000u}) {
            const v4::quantize_plan p = v4::plan_for_budget(m, budget);
            QVERIFY(p.tensor_bytes <= budget);
            const auto rank = [&](const std::string & name) {
                const auto & t = m.tensors[name == "blk.0.ffn_down.weight" ? 0 : 1];
                return std::find(t.types.begin(), t.types.end(), p.type_of.at(name)) - t.types.begin();
            };
            QVERIFY(rank("blk.0.ffn_down.weight") >= rank("blk.0.ffn_up.weight"));
        }
        QCOMPARE(v4::plan_for_budget(m, 1u << 30).type_of.at("blk.0.ffn_up.weight"), std::string("q8_0"));
    }

    void tooSmallABudgetIsAnError() {
        QVERIFY_THROWS_EXCEPTION(v4::Error, v4::plan_for_budget(synthetic(), 22999));
    }

    void bitsPerWeightBudget() {
        const auto m = synthetic();
        QCOMPARE(v4::budget_for_bpw(m, 8.0), uint64_t{1000 + 2 * 25600});
    }

    void q4KMRule() {
        const v4::quantize_plan p = v4::plan_q4_k_m_rule(synthetic(), 8);
        QCOMPARE(p.type_of.at("blk.0.ffn_down.weight"), std::string("q6_K")); // first eighth of the layers
        QCOMPARE(p.type_of.at("blk.0.ffn_up.weight"), std::string("q4_K"));
        QVERIFY_THROWS_EXCEPTION(v4::Error, v4::plan_uniform(synthetic(), "q4_0")); // not a candidate here
        QCOMPARE(v4::plan_uniform(synthetic(), "q5_K").type_of.at("blk.0.ffn_up.weight"), std::string("q5_K"));
    }
};

QTEST_APPLESS_MAIN(TestQuantPlan)
#include "test_quant_plan.moc"
