"""The run's toolbox: the built-ins ``[tool_use] builtins`` names, tools third-party plugins
register (``herd_register_tools``), and ``[tool_use] extra_tools`` specs; each refused with
its origin named when it is not a tool."""

import re
from dataclasses import dataclass

import pytest

from herd.core.app import App
from herd.core.errors import ConfigError, PluginError
from herd.core.hookspecs import hookimpl
from herd.core.records import ToolCall
from herd.core.services import Services
from herd.lib.chat.tools import FunctionDef
from herd.lib.tool import Tool
from herd.plugins.tools.config import ToolsConfig
from herd.plugins.tools.toolbox import build_toolbox

STOCK = FunctionDef("stock_price", "The price of a stock ticker.", {
    "type": "object", "properties": {"ticker": {"type": "string"}}, "required": ["ticker"]})
PRICES = {"ACME": "12.50"}


@dataclass
class StockConfig:
    currency: str = "EUR"


class StockPlugin:
    """A third-party plugin's tool, with its own config section."""

    def __init__(self, returns=None):
        self.returns = returns

    @hookimpl
    def herd_register_tools(self, register):
        def factory(cfg, services):
            if self.returns is not None:
                return self.returns
            return Tool(STOCK, lambda args: f"{PRICES[args['ticker']]} {cfg.currency}", timeout_s=5)

        register("stock_price", factory, config=StockConfig, description="stock prices")


def toolbox(tmp_path, plugin, cfg=ToolsConfig(builtins=["wolfram_alpha"])):
    app = App.create(plugins=["tools"], extra_plugins={"stocks": plugin}, entry_points=False)
    return build_toolbox(cfg, Services.for_app(app, workdir=tmp_path))


def test_a_plugin_registers_a_tool_the_model_can_call(tmp_path):
    box = toolbox(tmp_path, StockPlugin())
    assert box.names == ["stock_price", "wolfram_alpha"]
    assert box.origins["stock_price"] == "plugin 'stocks' (tools 'stock_price')"
    result = box.call(ToolCall("stock_price", {"ticker": "ACME"}))
    assert result.ok and result.output == "12.50 EUR"
    invalid = box.call(ToolCall("stock_price", {"symbol": "ACME"}))
    assert invalid.reason == "invalid_arguments"


@pytest.mark.parametrize("returns, message", [
    ("not a tool", "plugin 'stocks' (tools 'stock_price') returned str, not a Tool"),
    (Tool(FunctionDef("bad name!", "x", {"type": "object"}), lambda a: ""), "invalid definition"),
])
def test_a_plugin_tool_that_is_not_one_names_the_plugin(tmp_path, returns, message):
    with pytest.raises(PluginError, match=re.escape(message)):
        toolbox(tmp_path, StockPlugin(returns))


def test_a_plugin_tool_may_not_take_a_built_in_name(tmp_path):
    clash = Tool(FunctionDef("wolfram_alpha", "mine", {"type": "object", "properties": {}}), lambda a: "")
    with pytest.raises(PluginError, match=re.escape("added by both herd.plugins.tools and plugin 'stocks'")):
        toolbox(tmp_path, StockPlugin(clash))


def test_extra_tools_specs_load_or_say_why(tmp_path):
    with pytest.raises(ConfigError, match="must be 'module:attribute'"):
        toolbox(tmp_path, StockPlugin(), ToolsConfig(builtins=[], extra_tools=["nocolon"]))
    with pytest.raises(ConfigError, match="cannot be loaded"):
        toolbox(tmp_path, StockPlugin(), ToolsConfig(builtins=[], extra_tools=["no.such.module:thing"]))
    with pytest.raises(ConfigError, match="brave_search, wolfram_alpha, code_interpreter"):
        toolbox(tmp_path, StockPlugin(), ToolsConfig(builtins=["calculator"]))
