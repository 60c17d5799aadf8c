-- LaTeX's longtable steps the table counter for every table, captioned or not, so the
-- numbers of captioned tables would skip one for each uncaptioned table before them. After
-- Quarto's own filters, which give the captioned tables their captions.
if not FORMAT:match("latex") then
  return {}
end

function Table(tbl)
  if #tbl.caption.long == 0 then
    return {pandoc.RawBlock("latex", "\\addtocounter{table}{-1}"), tbl}
  end
end
