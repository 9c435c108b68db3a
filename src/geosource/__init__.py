"""geosource: critical-minerals sourcing analysis on cited layers.

>>> import geosource as gs
>>> layers = gs.load_layers()
>>> len(layers.facilities) >= 100
True
"""

from __future__ import annotations

from . import errors as errors
from ._version import __version__ as __version__
from .chains import ChainOptions as ChainOptions
from .chains import chains as chains
from .countries import country_name as country_name
from .countries import normalize_country as normalize_country
from .coverage import layer_coverage as layer_coverage
from .exposure import ExposureParams as ExposureParams
from .exposure import supply_concentration as supply_concentration
from .flows import Allocation as Allocation
from .flows import allocate as allocate
from .freshness import freshness_warnings as freshness_warnings
from .invest import ProjectValue as ProjectValue
from .invest import ValueWeights as ValueWeights
from .invest import project_value as project_value
from .layers import LAYER_KINDS as LAYER_KINDS
from .layers import Layers as Layers
from .layers import layer_summary as layer_summary
from .layers import load_boundaries as load_boundaries
from .layers import load_layers as load_layers
from .layers import load_ports as load_ports
from .layers import read_layer as read_layer
from .layers import validate_layer as validate_layer
from .layers import write_layer as write_layer
from .maps import map_candidates as map_candidates
from .maps import map_compare as map_compare
from .maps import map_flows as map_flows
from .maps import map_layers as map_layers
from .maps import map_paths as map_paths
from .maps import map_surface as map_surface
from .maps import pareto_chart as pareto_chart
from .maps import save_map_png as save_map_png
from .minerals import MINERALS as MINERALS
from .minerals import PRODUCTS as PRODUCTS
from .minerals import normalize_mineral as normalize_mineral
from .minerals import product_graph as product_graph
from .minerals import tonnes_per_tonne as tonnes_per_tonne
from .network import NetworkOptions as NetworkOptions
from .network import graph_from_gdfs as graph_from_gdfs
from .network import graph_from_layers as graph_from_layers
from .network import graph_to_gdfs as graph_to_gdfs
from .network import load_graph as load_graph
from .network import node_id as node_id
from .network import save_graph as save_graph
from .raster import friction_path as friction_path
from .report import ReportConfig as ReportConfig
from .report import build_report as build_report
from .routing import Route as Route
from .routing import RouteMatrix as RouteMatrix
from .routing import alternative_routes as alternative_routes
from .routing import networkx_weight as networkx_weight
from .routing import route_matrix as route_matrix
from .routing import routes_to_gdf as routes_to_gdf
from .routing import shortest_path as shortest_path
from .scenarios import Scenario as Scenario
from .scenarios import apply_scenario as apply_scenario
from .scenarios import compare as compare
from .scenarios import get_scenario as get_scenario
from .scoring import Weights as Weights
from .scoring import pareto_front as pareto_front
from .sourcing import sourcing_paths as sourcing_paths
from .surfaces import opportunity_surface as opportunity_surface
from .surfaces import sample_raster as sample_raster
from .sweeps import monte_carlo as monte_carlo
from .sweeps import sweep as sweep
from .transport import Disruption as Disruption
from .transport import TransportParams as TransportParams
from .transport import red_sea_2024 as red_sea_2024
from .transport import transport_costs as transport_costs
from .world import WorldAllocation as WorldAllocation
from .world import allocate_world as allocate_world
from .world import compare_allocations as compare_allocations
from .world import compare_supply_mix as compare_supply_mix

__all__ = [
    "LAYER_KINDS",
    "MINERALS",
    "PRODUCTS",
    "Allocation",
    "ChainOptions",
    "Disruption",
    "ExposureParams",
    "Layers",
    "NetworkOptions",
    "ProjectValue",
    "ReportConfig",
    "Route",
    "RouteMatrix",
    "Scenario",
    "TransportParams",
    "ValueWeights",
    "Weights",
    "WorldAllocation",
    "__version__",
    "allocate",
    "allocate_world",
    "alternative_routes",
    "apply_scenario",
    "build_report",
    "chains",
    "compare",
    "compare_allocations",
    "compare_supply_mix",
    "country_name",
    "errors",
    "freshness_warnings",
    "friction_path",
    "get_scenario",
    "graph_from_gdfs",
    "graph_from_layers",
    "graph_to_gdfs",
    "layer_coverage",
    "layer_summary",
    "load_boundaries",
    "load_graph",
    "load_layers",
    "load_ports",
    "map_candidates",
    "map_compare",
    "map_flows",
    "map_layers",
    "map_paths",
    "map_surface",
    "monte_carlo",
    "networkx_weight",
    "node_id",
    "normalize_country",
    "normalize_mineral",
    "opportunity_surface",
    "pareto_chart",
    "pareto_front",
    "product_graph",
    "project_value",
    "read_layer",
    "red_sea_2024",
    "route_matrix",
    "routes_to_gdf",
    "sample_raster",
    "save_graph",
    "save_map_png",
    "shortest_path",
    "sourcing_paths",
    "supply_concentration",
    "sweep",
    "tonnes_per_tonne",
    "transport_costs",
    "validate_layer",
    "write_layer",
]
