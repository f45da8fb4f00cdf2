"""The one reader of users' YAML files: plain data back, or a one-line error naming the file (and the line)."""

import pytest

from segrepro.cli import main
from segrepro.errors import UserError
from segrepro.yaml_files import read_yaml


def test_plain_data_comes_back(tmp_path):
    (tmp_path / "p.yaml").write_text("seeds: [0, 1]\ntier: smoke\n")
    assert read_yaml(tmp_path / "p.yaml") == {"seeds": [0, 1], "tier": "smoke"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read: No such file or directory"),
        (b"\xff\xfe seeds", "cannot read: not UTF-8 text"),
        (b"seeds: [0, 1\ntier: smoke\n", "not valid YAML at line 2: expected ',' or ']', but got ':'"),
        (b"a: !!python/object:os.system ls\n", "not valid YAML at line 1: "),  # safe_load constructs nothing
    ],
)
def test_unreadable_or_bad_yaml_is_one_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "p.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError) as err:
        read_yaml(path)
    assert str(err.value).startswith(f"{path}: {message}") and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "argv",
    [["plan", "--params", "bad.yaml"], ["datasets", "prepare", "--card", "bad.yaml"]],
)
def test_the_commands_reading_yaml_say_where_it_is_bad(workdir, capsys, argv):
    (workdir / "bad.yaml").write_text("datasets: [synthetic-2d\n")
    assert main(argv) == 2
    assert (
        capsys.readouterr().err
        == "segrepro: error: bad.yaml: not valid YAML at line 2: expected ',' or ']', but got '<stream end>'\n"
    )
