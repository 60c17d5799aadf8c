-- Page breaks and table widths in the PDF, before Quarto reads the document (every table is
-- still a table here, a captioned one inside its cell's `tbl-` div):
--
-- * A short table is moved whole to the next page rather than split, or its heading left
--   alone at the foot of a page: it asks for room for all its rows first (needspace).
-- * A table too wide for the page at its natural width gets column widths in proportion to
--   its longest cells, so that its cells wrap inside the margins.
-- * A short code cell (its code, text output and tables) starts on a new page rather than
--   leave its output on the page after its code.
-- * A heading asks for that room too (and its own), so that it never stays behind alone at
--   the foot of a page when what follows it moves on.
--
-- filters/table-counter.lua, after Quarto's filters, keeps the tables' numbers consecutive.
if not FORMAT:match("latex") then
  return {}
end

local SHORT = 25 -- rows or lines; anything longer may break across pages
local LINE = 80 -- characters of body text that fit on a line, about

local function rows_of(tbl)
  local rows = {}
  for _, row in ipairs(tbl.head.rows) do table.insert(rows, row) end
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do table.insert(rows, row) end
  end
  return rows
end

-- Each column gets its longest word, and the rest of the line in proportion to how much
-- more its longest cell needs.
local function fit_widths(tbl)
  local longest, word, total = {}, {}, 0
  for _, row in ipairs(rows_of(tbl)) do
    for i, cell in ipairs(row.cells) do
      local text = pandoc.utils.stringify(cell.contents)
      longest[i] = math.max(longest[i] or 1, utf8.len(text) or 0)
      for piece in text:gmatch("%S+") do
        word[i] = math.max(word[i] or 1, utf8.len(piece) or 0)
      end
    end
  end
  local columns, least, extra = #tbl.colspecs, 0, 0
  for i = 1, columns do
    total = total + (longest[i] or 1) + 3
    least = least + (word[i] or 1) + 3
    extra = extra + (longest[i] or 1) - (word[i] or 1)
  end
  if total <= LINE then
    return tbl
  end
  local spare = math.max(LINE - least, 0)
  for i, spec in ipairs(tbl.colspecs) do
    local more = extra > 0 and spare * ((longest[i] or 1) - (word[i] or 1)) / extra or 0
    tbl.colspecs[i] = {spec[1], 0.95 * ((word[i] or 1) + 3 + more) / math.max(LINE, least)}
  end
  return tbl
end

local function room(lines)
  return pandoc.RawBlock("latex", "\\needspace{" .. lines .. "\\baselineskip}")
end

function Table(tbl)
  local rows = #rows_of(tbl)
  tbl = fit_widths(tbl)
  if rows <= SHORT then
    -- a line for each row, and for a caption and the rules
    return {room(rows + 4), tbl}
  end
  return tbl
end

local function cell_lines(div)
  local lines = 0
  div:walk({
    CodeBlock = function(block)
      lines = lines + select(2, block.text:gsub("\n", "")) + 2 -- and the space around it
    end,
    Table = function(tbl)
      lines = lines + #rows_of(tbl) + 4
    end,
  })
  return lines
end

function Div(div)
  if div.classes:includes("cell") or div.identifier:match("^tbl%-") then
    local lines = cell_lines(div)
    if lines > 0 and lines <= SHORT then
      return {room(lines), div}
    end
  end
end

-- After the tables and cells above (block filters run before list filters): a heading
-- followed by a request for room takes the request, with room for itself.
function Blocks(blocks)
  local result = pandoc.Blocks({})
  for i, block in ipairs(blocks) do
    local after = blocks[i + 1]
    local lines = after and after.t == "RawBlock" and after.text:match("^\\needspace{(%d+)")
    if block.t == "Header" and block.level > 1 then
      result:insert(room((tonumber(lines) or 3) + 3))
    end
    result:insert(block)
  end
  return result
end
