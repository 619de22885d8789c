# The tiles app keeps no tables of its own: cluster cells belong to the layer's app (see tiles.cells).
