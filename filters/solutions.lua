--[[
Worked solutions: `::: {.solution}` divs, one after the statement of each exercise.

- HTML (and every format but LaTeX): each solution becomes a collapsed callout titled
  "Solution", folded under its exercise.
- LaTeX (the PDF): the book is one pandoc run over all its chapters, so the filter sees every
  solution. It moves them, in order, into an appendix "Solutions" at the end of the book (one
  section per chapter, one subsection per exercise) and leaves in the chapter a line
  "Solution: see Section A.m.n", a cross-reference to it. Each solution's subsection refers
  back to its exercise.

- The student edition (`edition: student`, the profile of _quarto-student.yml): no solution
  at all, in any format: each div is left out, and the PDF has no "Solutions" appendix.

It runs before Quarto's own filters (`at: pre-ast` in _quarto.yml): Quarto reads a `.solution`
div as one of its proof-like blocks, and this filter must see the div first. The appendix is
announced to Quarto as a book's own appendix is (a "part" marker and a file marker in the
merged document), so that it is numbered A, B, … and its references read as such.
]]

local SOLUTION = "solution"

local function is_solution(block)
  return block.t == "Div" and block.classes:includes(SOLUTION)
end

local function is_latex()
  return FORMAT:match("latex") ~= nil
end

-- Quarto's marker of where a book's file begins, as it writes it (`quarto-file-metadata`).
local function file_marker(metadata)
  local json = pandoc.json and pandoc.json.encode(metadata) or nil
  if json == nil then
    return nil
  end
  local encoded = quarto.base64.encode(json)
  return pandoc.RawBlock("html", "<!-- quarto-file-metadata: " .. encoded .. " -->")
end

local function has_appendix_part(blocks)
  for _, block in ipairs(blocks) do
    if block.t == "Div" and block.classes:includes("quarto-book-part") then
      local found = false
      block:walk({
        Header = function(header)
          if header.identifier == "appendices" then
            found = true
          end
        end,
      })
      if found then
        return true
      end
    end
  end
  return false
end

-- HTML: fold each solution into a collapsed callout.
local function fold(block)
  return pandoc.Div(block.content, pandoc.Attr(block.identifier, { "callout-tip" },
    { collapse = "true", title = "Solution", icon = "false" }))
end

local function solution_id(exercise_id, count)
  if exercise_id ~= nil and exercise_id:match("^sec%-") then
    return exercise_id .. "-solution"
  end
  return "sec-solution-" .. count
end

local function reference(id)
  return pandoc.Cite({ pandoc.Str("@" .. id) }, {
    pandoc.Citation(id, "AuthorInText"),
  })
end

-- LaTeX: move every solution into the appendix.
local function move(doc)
  local blocks, chapters, current, exercise = pandoc.Blocks({}), {}, nil, nil
  local count = 0
  for _, block in ipairs(doc.blocks) do
    if block.t == "Header" and block.level == 1 then
      current = { header = block, solutions = {} }
      table.insert(chapters, current)
      blocks:insert(block)
    elseif block.t == "Header" then
      exercise = block
      blocks:insert(block)
    elseif is_solution(block) then
      count = count + 1
      local exercise_id = exercise and exercise.identifier or nil
      local id = solution_id(exercise_id, count)
      blocks:insert(pandoc.Para({
        pandoc.Emph({ pandoc.Str("Solution:") }), pandoc.Space(), pandoc.Str("see"),
        pandoc.Space(), reference(id), pandoc.Str("."),
      }))
      if current == nil then
        current = { header = nil, solutions = {} }
        table.insert(chapters, current)
      end
      table.insert(current.solutions, {
        id = id, exercise = exercise, exercise_id = exercise_id, content = block.content,
      })
    else
      blocks:insert(block)
    end
  end
  if count == 0 then
    return nil
  end

  if not has_appendix_part(doc.blocks) then
    local part = pandoc.Div({}, pandoc.Attr("", { "quarto-book-part" }))
    local marker = file_marker({ resourceDir = ".", bookItemType = "appendix",
                                 bookItemDepth = 0 })
    if marker ~= nil then
      part.content:insert(marker)
    end
    part.content:insert(pandoc.Header(1, { pandoc.Str("Appendices") },
      pandoc.Attr("appendices", { "unnumbered" })))
    blocks:insert(part)
  end
  local marker = file_marker({ resourceDir = ".", bookItemType = "chapter",
                               bookItemNumber = 1, bookItemFile = "solutions.qmd",
                               bookItemDepth = 1 })
  if marker ~= nil then
    blocks:insert(marker)
  else
    blocks:insert(pandoc.RawBlock("latex", "\\appendix"))
  end
  blocks:insert(pandoc.Header(1, { pandoc.Str("Solutions") }, pandoc.Attr("sec-solutions")))
  blocks:insert(pandoc.Para(pandoc.Inlines(
    "The worked solutions of the exercises at the end of each chapter, in their order.")))
  for _, chapter in ipairs(chapters) do
    if #chapter.solutions > 0 then
      if chapter.header ~= nil then
        local id = chapter.header.identifier
        blocks:insert(pandoc.Header(2, chapter.header.content:clone(),
          pandoc.Attr(id ~= "" and id .. "-solutions" or "")))
      end
      for _, solution in ipairs(chapter.solutions) do
        local title = solution.exercise and solution.exercise.content:clone()
          or pandoc.Inlines("Solution")
        blocks:insert(pandoc.Header(3, title, pandoc.Attr(solution.id)))
        if solution.exercise_id and solution.exercise_id:match("^sec%-") then
          blocks:insert(pandoc.Para({
            pandoc.Emph({ pandoc.Str("Exercise:") }), pandoc.Space(),
            reference(solution.exercise_id), pandoc.Str("."),
          }))
        end
        blocks:extend(solution.content)
      end
    end
  end
  doc.blocks = blocks
  return doc
end

local function is_student_edition(meta)
  return meta.edition ~= nil and pandoc.utils.stringify(meta.edition) == "student"
end

function Pandoc(doc)
  if is_student_edition(doc.meta) then
    doc.blocks = doc.blocks:walk({
      Div = function(block)
        if is_solution(block) then
          return {}
        end
      end,
    })
    return doc
  end
  if is_latex() then
    return move(doc)
  end
  doc.blocks = doc.blocks:walk({
    Div = function(block)
      if is_solution(block) then
        return fold(block)
      end
    end,
  })
  return doc
end
