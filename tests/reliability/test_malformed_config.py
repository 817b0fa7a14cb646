import copy

import pytest
import torch
import yaml

from sslbench.config import ConfigError, check_config_file, merged_config, validate_config
from sslbench.regularisers.base import Regulariser
from sslbench.stages.common import build_model
from sslbench.training.fit import fit


def test_shipped_configs_are_valid(repo, default_config, schema_path):
    validate_config(default_config, schema_path)
    tiny = yaml.safe_load((repo / ".test" / "config" / "test.yaml").read_text())
    validate_config(merged_config(default_config, tiny), schema_path)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"pretrain": {"epochs": "ten"}}, r"pretrain\.epochs: 'ten' is not of type 'integer'"),
        ({"pretrain": {"epochs": 0}}, r"pretrain\.epochs: 0 is less than the minimum of 1"),
        (
            {"pretrain": {"methods": ["simclr", "mocov9"]}},
            r"pretrain\.methods\.1: 'mocov9'.*simclr",
        ),
        ({"pretrain": {"datasets": ["cifar"]}}, r"pretrain\.datasets: 'cifar' is not defined"),
        ({"pretrain": {"optimiser": {}}}, r"pretrain: unknown key\(s\) 'optimiser'"),
        (
            {"pretrain": {"backbone": {"stem": "tiny"}}},
            r"pretrain\.backbone\.stem: 'tiny'.*'cifar'",
        ),
        ({"datasets": {"trifeature": {"target": "class"}}}, r"datasets\.trifeature\.target"),
        ({"datasets": {"trifeature": {"source": "lmdb"}}}, r"datasets\.trifeature\.source: 'lmdb'"),
        (
            {
                "datasets": {
                    "folder": {
                        "source": "imagefolder",
                        "target": "class",
                        "path": "/nope",
                        "image_size": 32,
                    }
                }
            },
            r"datasets\.folder\.path: '/nope' is not a directory",
        ),
        (
            {
                "datasets": {
                    "folder": {
                        "source": "imagefolder",
                        "target": "class",
                        "path": "/tmp",
                        "image_size": 32,
                        "n_train": 100,
                    }
                }
            },
            r"datasets\.folder: 'seed' is a dependency of 'n_train'",
        ),
        ({"augment": {"flip_p": 1.5}}, r"augment\.flip_p: 1\.5 is greater than the maximum of 1"),
        ({"analysis": {"qscore": {"lower_percentile": 96}}}, r"lower_percentile"),
        ({"tracking": {"tracking_uri": "./mlruns"}}, r"tracking\.tracking_uri"),
        ({"pretrain": {"seeds": ["0"]}}, r"pretrain\.seeds\.0: '0' is not of type 'integer'"),
        ({"pretrain": {"seeds": [1, 1]}}, r"pretrain\.seeds: .*non-unique"),
        ({"pretrain": {"batch_size": 1}}, r"pretrain\.batch_size: 1 is less than the minimum"),
        ({"pretrain": {"backbone": {"base_width": 2}}}, r"pretrain\.backbone\.base_width"),
        ({"pretrain": {"optimizer": {"name": "rmsprop"}}}, r"optimizer\.name: 'rmsprop'.*'lars'"),
        ({"pretrain": {"optimizer": {"lr": -1}}}, r"pretrain\.optimizer\.lr"),
        ({"augment": {"blur": 0.5}}, r"augment: unknown key\(s\) 'blur'"),
        (
            {"methods": {"simclr": {"optimizer": {"trust": 0.001}}}},
            r"methods\.simclr\.optimizer: unknown key\(s\) 'trust'",
        ),
        (
            {"methods": {"byol": {"augment": [{}, {}, {}]}}},
            r"methods\.byol\.augment: .* is too long",
        ),
        ({"augment": {"crop_scale": [0.0, 1.0]}}, r"augment\.crop_scale\.0"),
        ({"augment": {"mean": [0.5, 0.5]}}, r"augment\.mean"),
        ({"datasets": {"trifeature": {"image_size": 8}}}, r"datasets\.trifeature\.image_size"),
        ({"datasets": {"trifeature": {"path": "/data"}}}, r"datasets\.trifeature: has keys"),
        (
            {
                "datasets": {
                    "tv": {
                        "source": "torchvision",
                        "target": "class",
                        "path": "x",
                        "download": False,
                    }
                }
            },
            r"datasets\.tv: 'name' is a required property",
        ),
        ({"datasets": {"bad name!": {"source": "trifeature"}}}, r"datasets"),
        ({"analysis": {"qscore": {"confidence": 1.5}}}, r"analysis\.qscore\.confidence"),
        ({"analysis": {"qscore": {"bootstrap_samples": 5}}}, r"bootstrap_samples"),
        ({"evaluation": {"knn": {"k": 0}}}, r"evaluation\.knn\.k"),
        ({"methods": {"simclr": {"temperature": 0}}}, r"methods\.simclr\.temperature"),
        ({"methods": {"simclr": {"tau": 0.5}}}, r"methods\.simclr: unknown key\(s\) 'tau'"),
        # Values that passed the schema and failed late (issue 22, fault 3/4).
        (
            {"finetune": {"batch_size": 6000}},
            r"finetune\.batch_size: 6000 exceeds the 5000 training images .*n_train",
        ),
        ({"suppression": {"batch_size": 6000}}, r"suppression\.batch_size: 6000 exceeds"),
        ({"results_dir": ""}, r"results_dir: '' does not match .*non-empty folder path"),
        ({"data_dir": "res{x}"}, r"data_dir: 'res\{x\}' does not match .*without \{ \}"),
        (
            {"datasets": {"trifeature": None}},
            r"trifeature: None is not of type 'object'$",
        ),
        ({"pretrain": {"seeds": [2**64]}}, r"pretrain\.seeds\.0: 18446744073709551616 is greater"),
        ({"augment": {"std": [0, 0, 0]}}, r"augment\.std\.0: 0 is less than or equal"),
        (
            {"tracking": {"artifact_root": "/dev/null/x"}},
            r"tracking\.artifact_root: '/dev/null/x' cannot be created because '/dev/null'",
        ),
        ({"tracking": {"tracking_uri": "sqlite:///"}}, r"tracking\.tracking_uri: .*not in-memory"),
        ({"tracking": {"tracking_uri": "sqlite:///:memory:"}}, r"tracking\.tracking_uri"),
        (
            {
                "collapse": {
                    "settings": {
                        "big": {"experiment": "linear", "space": "sphere", "content_dims": 9}
                    }
                }
            },
            r"collapse\.settings\.big\.content_dims: 9 exceeds its dim \(8\)",
        ),
        (
            {"evaluation": {"knn": {"k": 100000}}},
            r"evaluation\.knn\.k: 100000 exceeds the 5000 training images of dataset 'trifeature'",
        ),
        (
            {"regularisers": {"a;b": {"kind": "lasso", "weight": 1.0}}},
            r"regularisers: 'a;b' does not match .*becomes a folder",
        ),
        ({"finetune": {"runs": {"..": ["simclr"]}}}, r"finetune\.runs: '\.\.' does not match"),
        # the name reaches MLflow (500 characters at most) and command lines (no leading "-")
        ({"tracking": {"experiment": "x" * 501}}, r"tracking\.experiment: .*too long"),
        ({"tracking": {"experiment": "-ablation"}}, r"tracking\.experiment: '-ablation'"),
    ],
)
def test_malformed_config_names_the_key(default_config, schema_path, override, expected):
    with pytest.raises(ConfigError, match=expected):
        validate_config(merged_config(default_config, override), schema_path)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"p": 0.5}, r"\.p: 0\.5 is less than the minimum of 1"),
        ({"readout_samples": 3}, r"\.readout_samples: 3 is less than the minimum of 4"),
        ({"eval_samples": 101}, r"\.eval_samples: 101 is not a multiple of 2"),
        ({"normalise": True}, r"\.normalise: False was expected"),  # on the box
        ({"experiment": "cubic"}, r"\.experiment: 'cubic' is not allowed"),
        ({"space": "torus"}, r"\.space: 'torus' is not allowed"),
        ({"content_dim": 1}, r": unknown key\(s\) 'content_dim'"),
        ({"tau_style": 0}, r"\.tau_style: 0 is less than or equal to the minimum of 0"),
        ({"steps": 1.5}, r"\.steps: 1\.5 is not of type 'integer'"),
    ],
)
def test_a_bad_collapse_setting_names_the_key(default_config, schema_path, setting, expected):
    """The schema is the only check of a 002 setting (the collapse stage validates nothing)."""
    bad = {"experiment": "linear", "space": "box"} | setting
    with pytest.raises(ConfigError, match=r"config key collapse\.settings\.bad" + expected):
        validate_config(
            merged_config(default_config, {"collapse": {"settings": {"bad": bad}}}), schema_path
        )


def test_every_problem_is_reported_at_once(default_config, schema_path):
    bad = merged_config(default_config, {"threads": 0, "features": {"batch_size": -1}})
    with pytest.raises(ConfigError) as info:
        validate_config(bad, schema_path)
    assert "threads" in str(info.value) and "features.batch_size" in str(info.value)


def test_missing_required_key_is_named(default_config, schema_path):
    bad = copy.deepcopy(default_config)
    del bad["pretrain"]["epochs"]
    with pytest.raises(ConfigError, match=r"pretrain: 'epochs' is a required property"):
        validate_config(bad, schema_path)


IFM_005 = {"kind": "ifm", "epsilon": 0.05, "alpha": 1.0, "adversarial_only": False}


def test_a_named_regulariser_variant_is_valid_where_its_kind_is(default_config, schema_path):
    config = merged_config(
        default_config,
        {
            "regularisers": {"ifm_eps005": IFM_005},
            "scratch": {"runs": {"ifm_eps005": ["simclr"]}},
            "suppression": {"regularisers": ["none", "ifm_eps005"]},
        },
    )
    validate_config(config, schema_path)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            {"regularisers": {"ifm_eps005": {**IFM_005, "epsilon": -1}}},
            r"regularisers\.ifm_eps005\.epsilon: -1 is less than the minimum",
        ),
        (
            {"regularisers": {"ifm_eps005": {"epsilon": 0.05}}},
            r"regularisers\.ifm_eps005: 'kind' is a required property",
        ),
        (
            {"regularisers": {"ifm_eps005": {**IFM_005, "weight": 1.0}}},
            r"regularisers\.ifm_eps005: unknown key\(s\) 'weight'",
        ),
        (
            {"scratch": {"runs": {"ifm_eps005": ["simclr"]}}},
            r"scratch\.runs\.ifm_eps005: unknown regulariser; .*define a variant",
        ),
        (
            {
                "pretrain": {"methods": ["simclr", "byol"]},
                "regularisers": {"ifm_eps005": IFM_005},
                "scratch": {"runs": {"ifm_eps005": ["byol"]}},
            },
            r"scratch\.runs\.ifm_eps005: 'byol' is not one of \['simclr', 'mocov2'\]",
        ),
        (
            {"suppression": {"regularisers": ["none", "lasso"]}},
            r"suppression\.regularisers: 'lasso' is neither",
        ),
    ],
)
def test_a_bad_regulariser_variant_names_the_key(default_config, schema_path, override, expected):
    with pytest.raises(ConfigError, match=expected):
        validate_config(merged_config(default_config, override), schema_path)


def test_a_key_given_twice_names_the_file_and_both_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("pretrain:\n  epochs: 1\n  seeds: [0]\n  epochs: 2\n")
    expected = rf"config file {path}, line 4: key 'epochs' is given twice \(first on line 2\)"
    with pytest.raises(ConfigError, match=expected):
        check_config_file(path)


@pytest.mark.parametrize(
    ("stage", "variant", "key"),
    [
        ("finetune", "finetune-lasso", "finetune"),
        ("pretrain", "suppression-tau0.5-none", "suppression"),
    ],
)
def test_a_batch_larger_than_the_images_names_its_own_key(repo, tmp_path, stage, variant, key):
    """Issue 22 fault 3: a fine-tune batch larger than an ImageFolder's images (which the
    validator cannot count) failed naming pretrain.batch_size."""
    tiny = yaml.safe_load((repo / ".test" / "config" / "test.yaml").read_text())
    params = {
        "dataset": "folder",
        "method": "simclr",
        "seed": 0,
        "variant": variant,
        "backbone": tiny["pretrain"]["backbone"],
        "method_params": tiny["methods"]["simclr"],
        "train": {"batch_size": 64},
    }
    model = build_model(params)
    images = torch.zeros((40, 3, 16, 16), dtype=torch.uint8)
    with pytest.raises(ValueError, match=rf"config key {key}\.batch_size: 64 exceeds the 40"):
        fit(stage, model, Regulariser(), images, params, "v", tmp_path / "m.pt", tmp_path / "h")
