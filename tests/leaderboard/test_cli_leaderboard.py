"""The CLI side of the leaderboard: bad options are one-line errors with exit status 2."""

from segrepro.cli import main


def test_leaderboard_port_out_of_range(capsys):
    assert main(["leaderboard", "--port", "70000"]) == 2
    assert "--port must be between 1 and 65535" in capsys.readouterr().err


def test_negative_save_predictions(capsys, workdir):
    assert main(["run", "--dataset", "synthetic-2d", "--baseline", "unet-ce", "--save-predictions", "-1"]) == 2
    assert "--save-predictions must be 0 or more" in capsys.readouterr().err
