-- Fills the block `::: {#book-citation}` (the preface) with how to cite the book: a sentence
-- and a BibTeX entry, from _quarto.yml's `citation:` (title, author, version, url) and the
-- year of the book's date. Quarto 1.7 renders no citation appendix in a book's pages.

local function text(value)
  return value and pandoc.utils.stringify(value) or ""
end

local meta = {}

local function fill(div)
  if div.identifier ~= "book-citation" then
    return nil
  end
  local citation = meta.citation
  if citation == nil then
    quarto.log.warning("#book-citation: _quarto.yml has no `citation:`")
    return nil
  end
  local title, author = text(citation.title), text(citation.author)
  local version, url = text(citation.version), text(citation.url)
  local year = text(meta.date):match("%d%d%d%d") or os.date("%Y")
  local sentence = pandoc.Para({
    pandoc.Str(author .. " (" .. year .. "). "), pandoc.Emph(pandoc.Str(title)),
    pandoc.Str(", version " .. version .. ". "), pandoc.Link(pandoc.Str(url), url),
  })
  local bibtex = table.concat({
    "@book{isldl" .. year .. ",",
    "  title   = {" .. title:gsub("ISLR2", "{ISLR2}"):gsub("Python", "{Python}") .. "},",
    "  author  = {{" .. author .. "}},",
    "  year    = {" .. year .. "},",
    "  version = {" .. version .. "},",
    "  url     = {" .. url .. "},",
    "}",
  }, "\n")
  return pandoc.Div({ sentence, pandoc.CodeBlock(bibtex, { class = "bibtex" }) },
    pandoc.Attr("book-citation", { "book-citation" }))
end

return {
  { Meta = function(m) meta = m end },
  { Div = fill },
}
