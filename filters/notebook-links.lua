-- HTML only: under a chapter's title, its notebooks: the executed one and the practice one
-- (written into _book/notebooks/ by `make book`) and "Open in Colab" (the committed
-- notebooks/<chapter>.ipynb at the release's tag). The links come from notebooks/links.json,
-- which `make notebooks` (python -m isldl_book.notebooks colab) writes from _quarto.yml's chapters.
-- In the student edition (`edition: student`) the Colab notebook is the one without solutions.

local function read_links()
  local path = pandoc.path.join({ quarto.project.directory, "notebooks", "links.json" })
  local file = io.open(path, "r")
  if file == nil then
    return nil
  end
  local text = file:read("a")
  file:close()
  return quarto.json.decode(text)
end

local function button(icon, text, target, attributes)
  -- Not an input of the project: Quarto must not try to resolve a `.ipynb` link to a page
  -- (it would warn "Unable to resolve link target"); the build writes the file.
  attributes["data-noresolveinput"] = ""
  local content = {
    pandoc.Span({}, { class = "bi bi-" .. icon }), pandoc.Space(), pandoc.Str(text),
  }
  return pandoc.Link(content, target, "",
    pandoc.Attr("", { "btn", "btn-sm", "me-2", "mb-1" }, attributes))
end

function Pandoc(doc)
  if not quarto.doc.is_format("html") or quarto.project.directory == nil then
    return nil
  end
  local input = quarto.doc.input_file
  local relative = pandoc.path.make_relative(input, quarto.project.directory)
  local folder = pandoc.path.directory(relative)
  if folder ~= "chapters" then
    return nil
  end
  local stem = pandoc.path.split_extension(pandoc.path.filename(input))
  local links = read_links()
  local entry = links and links.chapters and links.chapters[stem]
  if entry == nil then
    quarto.log.warning("notebooks/links.json has no links for " .. relative ..
      ": run `make notebooks` to write its Colab notebook and links")
    return nil
  end
  local up = "../"  -- a chapter's page is _book/chapters/<chapter>.html
  local student = doc.meta.edition ~= nil and pandoc.utils.stringify(doc.meta.edition) == "student"
  local bar = pandoc.Div({ pandoc.Plain({
    button("download", "Executed notebook", up .. entry.executed,
      { download = stem .. ".ipynb", title = "The chapter as executed for this page" }),
    button("pencil-square", "Practice notebook", up .. entry.practice,
      { download = stem .. "-practice.ipynb",
        title = "The chapter with exercises in place of the key code" }),
    button("google", "Open in Colab", student and entry.colab_student or entry.colab,
      { title = "Run the chapter in Google Colab (release " .. links.tag .. ")" }),
  }) }, pandoc.Attr("", { "isldl-notebooks" }, { ["aria-label"] = "Notebooks of this chapter" }))
  for index, block in ipairs(doc.blocks) do
    if block.t == "Header" and block.level == 1 then
      doc.blocks:insert(index + 1, bar)
      return doc
    end
  end
  doc.blocks:insert(1, bar)
  return doc
end
