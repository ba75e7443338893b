"""The command line: readable output, JSON output, and errors without tracebacks."""

import json
import subprocess
import sys

from .conftest import KNOWLEDGE


def copilot(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "copilot", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_ingest_then_search_finds_the_return_policy_with_its_source(real_index):
    settings, _, _ = real_index
    base = ["--knowledge-dir", str(KNOWLEDGE), "--data-dir", str(settings.data_dir)]
    out = copilot(*base, "ingest")
    assert out.returncode == 0, out.stderr
    assert "计算嵌入 0 次" in out.stdout  # already ingested by the fixture: nothing to do
    out = copilot(*base, "search", "衣服买大了能换吗")
    assert out.returncode == 0, out.stderr
    first = out.stdout.split("\n2.")[0]
    assert "七天无理由退换货" in first and "store/policies.md" in first


def test_search_json_shape(real_index):
    settings, _, _ = real_index
    out = copilot("--data-dir", str(settings.data_dir), "search", "手表续航多久", "-k", "2", "--json", "--sku", "SW-5501")
    data = json.loads(out.stdout)
    assert set(data) >= {"query", "hits", "grounded", "threshold"}
    assert len(data["hits"]) == 2 and all(h["sku"] == "SW-5501" for h in data["hits"])
    assert {"score", "source", "section", "kind", "ref", "text"} <= set(data["hits"][0])


def test_user_errors_print_a_message_not_a_traceback(real_index, tmp_path):
    settings, _, _ = real_index
    out = copilot("--data-dir", str(settings.data_dir), "search", "   ")
    assert out.returncode == 2
    assert "查询内容不能为空" in out.stderr and "Traceback" not in out.stderr

    out = copilot("--data-dir", str(tmp_path / "empty"), "search", "发票")
    assert out.returncode == 2 and "copilot ingest" in out.stderr and "Traceback" not in out.stderr

    out = copilot("--embedder", "nope:model", "--data-dir", str(tmp_path / "x"), "search", "发票")
    assert out.returncode == 2 and "未知的嵌入模型" in out.stderr


def test_a_usage_error_names_the_fix_without_a_traceback(tmp_path):
    out = copilot("--data-dir", str(tmp_path / "x"), "eval", "dialogues", "analysis")  # one suite per run
    assert out.returncode == 2
    assert "命令用法有误" in out.stderr and "--help" in out.stderr and "Traceback" not in out.stderr
    out = copilot("no-such-command")
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_ingest_reports_bad_files_and_exits_nonzero(tmp_path):
    kdir = tmp_path / "knowledge"
    (kdir / "store").mkdir(parents=True)
    (kdir / "store" / "policies.md").write_text("# 政策\n## 发票\n支持电子发票。\n", encoding="utf-8")
    (kdir / "store" / "catalog.yaml").write_text("products: [ {sku: ", encoding="utf-8")
    out = copilot("--knowledge-dir", str(kdir), "--data-dir", str(tmp_path / "d"), "--embedder", "hash:32", "ingest")
    assert out.returncode == 1
    assert "store/catalog.yaml" in out.stdout and "YAML" in out.stdout
    out = copilot("--knowledge-dir", str(kdir), "--data-dir", str(tmp_path / "d"), "--embedder", "hash:32", "search", "发票")
    assert out.returncode == 0 and "发票" in out.stdout
