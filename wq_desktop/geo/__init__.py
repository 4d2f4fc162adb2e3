"""Parcel geometry: polygons (validation, 亩 area, WKB), projection, overlaps, 界址点 text.

Coordinates inside the program are GIS order (x = easting, y = northing), stored in the project
CRS (EPSG:4538, CGCS2000 3-degree Gauss-Kruger CM 87E, no zone prefix). Chinese survey text uses
X = northing, Y = easting, so every message and every 界址点 row swaps the two on the way out.

Pure functions only (no I/O, no Qt).
"""
