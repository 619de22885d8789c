"""bench/tegola_case.py without a tegola binary: the config it writes, the decoding it compares, the skip."""

import tomllib

import mapbox_vector_tile

from bench import tegola_case

DB = "postgres://postgres@127.0.0.1:54329/gridcity_bench_tiles"
ZOOMS = {"components": (0, 18), "base_grids": (12, 18), "street_grids": (0, 18)}


def test_config_has_a_map_per_layer_with_clusters_below_and_features_from(tmp_path, monkeypatch):
    monkeypatch.setattr(tegola_case, "STATE", tmp_path)
    conf = tomllib.loads(tegola_case.config(DB, 4321, ZOOMS, clusters_below=16).read_text())

    assert conf["webserver"]["port"] == "127.0.0.1:4321"  # loopback only
    (provider,) = conf["providers"]
    assert provider["uri"].startswith("postgres://postgres@127.0.0.1:54329/gridcity_bench_tiles?")
    sql = {layer["name"]: layer["sql"] for layer in provider["layers"]}
    assert set(sql) == {"components", "base_grids", "street_grids", "component_clusters"}
    for name, text in sql.items():
        assert "!BBOX!" in text, name
    assert "LIMIT 20000" in sql["components"] and "level_id = 4" in sql["base_grids"]
    assert "tiles_componentcell" in sql["component_clusters"] and "!ZOOM!" in sql["component_clusters"]

    maps = {m["name"]: m for m in conf["maps"]}
    assert set(maps) == set(ZOOMS)
    spans = [
        (lyr["name"], lyr["provider_layer"], lyr["min_zoom"], lyr["max_zoom"]) for lyr in maps["components"]["layers"]
    ]
    assert spans == [
        ("components", "gridcity.component_clusters", 0, 15),
        ("components", "gridcity.components", 16, 18),
    ]
    assert [(lyr["min_zoom"], lyr["max_zoom"]) for lyr in maps["base_grids"]["layers"]] == [(12, 18)]
    assert all(m["tile_buffer"] == 64 for m in maps.values())


def test_decoded_keys_features_by_id_leaves_out_labels_and_sorts_cluster_counts():
    tile = mapbox_vector_tile.encode(
        [
            {
                "name": "grids",
                "features": [
                    {"id": 7, "geometry": "POINT(10 10)", "properties": {"code": "a", "label": True}},
                    {"id": 7, "geometry": "POLYGON((0 0,0 9,9 9,9 0,0 0))", "properties": {"code": "a"}},
                    {"geometry": "POINT(1 1)", "properties": {"count": 5, "cluster": True}},
                    {"geometry": "POINT(2 2)", "properties": {"count": 2, "cluster": True}},
                ],
            }
        ]
    )
    assert tegola_case._decoded(tile) == {7: {"code": "a"}, "clusters": [2, 5]}
    assert tegola_case._decoded(b"") == {}


def test_run_case_is_skipped_with_a_message_without_a_binary(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TEGOLA_BIN", str(tmp_path / "no-tegola"))
    recorded = []
    tegola_case.run_case(DB, [], [], [], concurrency=4, runs=1, repeated=None, record=recorded.append)
    assert recorded == []
    assert "(i) tegola: skipped, no binary at" in capsys.readouterr().out
