-- EPUB only: each figure, drawn as SVG for every format (one figure setting for all, so that
-- a page executes once: _quarto.yml), goes into the e-book as a PNG at 200 dots per inch,
-- its alt text kept. Matplotlib's SVG names an external DTD, which EPUB 3 forbids (epubcheck's
-- HTM-003), and e-readers draw SVG unevenly.

local function local_file(src)
  local candidates = { src }
  if quarto.doc.input_file ~= nil then
    table.insert(candidates, pandoc.path.join({ pandoc.path.directory(quarto.doc.input_file), src }))
  end
  for _, path in ipairs(candidates) do
    local file = io.open(path, "rb")
    if file ~= nil then
      file:close()
      return path
    end
  end
  return nil
end

function Image(image)
  if not quarto.doc.is_format("epub") then
    return nil
  end
  local stem, extension = pandoc.path.split_extension(image.src)
  local path = extension == ".svg" and local_file(image.src) or nil
  if path == nil then
    return nil
  end
  local png = pandoc.pipe("rsvg-convert", { "--format", "png", "--dpi-x", "200", "--dpi-y", "200",
    path }, "")
  image.src = stem .. ".png"
  pandoc.mediabag.insert(image.src, "image/png", png)
  return image
end

-- A figure of several panels keeps its alt text on its div (Quarto's `fig-alt`), where EPUB's
-- XHTML allows none: it goes to the figure's image instead.
function Div(div)
  if not quarto.doc.is_format("epub") or div.attributes["alt"] == nil then
    return nil
  end
  local alt = div.attributes["alt"]
  div.attributes["alt"] = nil
  return div:walk({
    Image = function(image)
      if pandoc.utils.stringify(image.caption) == "" then
        image.caption = pandoc.Inlines(alt)
      end
      return image
    end,
  })
end
