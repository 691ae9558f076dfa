// searchLeads: one card per lead, with the match count and paging state.
sfmcp.mount(function (data, root) {
  var h = sfmcp.el;
  var leads = sfmcp.list(data.leads);
  var total = sfmcp.finite(data.totalSize) ? data.totalSize : leads.length;
  var offset = sfmcp.finite(data.offset) ? data.offset : 0;
  var tones = { Hot: 'hot', Warm: 'warm', Cold: 'cold' };
  root.appendChild(h('h1', null, sfmcp.plural(total, 'lead matches', 'leads match')));
  if (!leads.length) {
    root.appendChild(h('p', 'empty', 'No leads to show.'));
    return;
  }
  root.appendChild(h('p', 'sub', 'Showing ' + sfmcp.count(offset + 1) + '–' +
    sfmcp.count(offset + leads.length) + ' of ' + sfmcp.count(total)));
  var grid = h('div', 'grid');
  leads.forEach(function (lead) {
    var byline = [lead.title, lead.company].filter(function (v) { return !sfmcp.blank(v); });
    sfmcp.add(grid, sfmcp.add(h('article', 'card'),
      sfmcp.add(h('div', 'card-head'), sfmcp.add(h('h2'), sfmcp.link(lead.url, sfmcp.show(lead.name)))),
      h('p', 'line', byline.length ? byline.join(' · ') : '—'),
      sfmcp.add(h('div', 'badges'),
        sfmcp.badge(lead.rating, tones[lead.rating]),
        sfmcp.badge(lead.status),
        lead.isConverted === true ? sfmcp.badge('Converted', 'good') : null),
      sfmcp.facts([
        ['Industry', lead.industry],
        ['Annual revenue', sfmcp.money(lead.annualRevenue)],
        ['Employees', sfmcp.count(lead.numberOfEmployees)],
        ['Source', lead.leadSource],
        ['Owner', lead.ownerName],
        ['Created', sfmcp.blank(lead.createdDate) ? null : sfmcp.date(lead.createdDate)],
        ['Email', lead.email],
        ['Phone', lead.phone]
      ])));
  });
  root.appendChild(grid);
  if (!sfmcp.blank(data.nextCursor)) {
    root.appendChild(h('p', 'note', 'More leads match: ask for the next page.'));
  }
});
