"""Hand-written main texts of the news and blog pages (no extractor produced any of this).

A body: (id, kind, lang, title, blocks). Blocks: ("p", text), ("h2", text), ("ul"|"ol", [items]),
("table", [[cell, ...], ...]) with the header row first, ("pre", code), ("quote", text).
Inline markup in text: ``*word*`` is emphasis, ``[text](url)`` a link; the gold text keeps the words only.
"""

NEWS = [
    ("news-en-harbour", "news", "en", "Harbour bridge to close for three weekends of repairs", [
        ("p", "The city's main harbour bridge will close to cars on three weekends in October while engineers replace worn expansion joints, the transport department said on Tuesday."),
        ("p", "Buses will be diverted over the Mill Street crossing, which adds roughly twelve minutes to the journey from the northern suburbs. Cyclists and pedestrians can still use the eastern footpath, except on the night of the 14th, when the lighting cables are renewed."),
        ("p", "\"The joints were installed in 1987 and were designed to last thirty years,\" said chief engineer Marta Okafor. \"We are already five years past that, and the cracks we found in the spring inspection mean we cannot wait another season.\""),
        ("h2", "What changes for commuters"),
        ("ul", ["Closures run from 8 pm Friday to 5 am Monday.", "Night buses N4 and N7 will run every twenty minutes instead of every forty.", "The ferry adds two extra sailings on Saturday mornings."]),
        ("p", "The work is expected to cost 4.2 million, paid from the regional maintenance budget. Local shop owners on the southern approach said they feared a drop in weekend trade, and the council has promised to review parking fees near the market for the duration."),
    ]),
    ("news-en-orchard", "news", "en", "Late frost cuts apple harvest by a third in the valley", [
        ("p", "Growers in the upper valley expect to pick about a third fewer apples this autumn after a frost in late April damaged blossom on thousands of trees."),
        ("p", "Temperatures fell to minus four degrees on two consecutive nights, just as the early varieties were flowering. Orchards on lower ground, where cold air collects, were hit hardest."),
        ("quote", "We ran the frost fans all night and lit candles between the rows, but on the second night it simply was not enough."),
        ("p", "The growers' cooperative said prices for dessert apples would probably rise, though imports from the southern hemisphere should limit the increase. Cider makers, who buy fruit that supermarkets reject, are more worried: several told the *Valley Courier* they had already signed contracts for fruit that may not exist."),
        ("h2", "Insurance questions"),
        ("p", "Only about one farm in five in the region carries crop insurance against frost, according to the agricultural chamber. Premiums have doubled in a decade, and many smaller growers say the policies exclude exactly the late spring events that are becoming more common."),
        ("p", "The regional government will decide next month whether to open an emergency fund, as it did after the hailstorm of 2019."),
    ]),
    ("news-de-bahn", "news", "de", "Neue Regionalbahn verbindet ab Dezember zwei Landkreise", [
        ("p", "Ab dem Fahrplanwechsel im Dezember fährt erstmals seit über vierzig Jahren wieder ein Personenzug zwischen Altenau und Bergheim. Die reaktivierte Strecke ist 23 Kilometer lang und hat sechs Halte."),
        ("p", "Die Züge sollen montags bis freitags im Stundentakt verkehren, am Wochenende alle zwei Stunden. Für die Fahrt von Endpunkt zu Endpunkt rechnet der Verkehrsverbund mit 31 Minuten, mit dem Bus sind es bisher fast eine Stunde."),
        ("h2", "Kosten und Finanzierung"),
        ("p", "Die Sanierung der Gleise, Brücken und Bahnübergänge hat rund 68 Millionen Euro gekostet. Den größten Teil trägt der Bund, das Land übernimmt ein Viertel, die beiden Landkreise zahlen den Rest."),
        ("p", "Kritiker hatten lange bezweifelt, dass genug Fahrgäste den Zug nutzen würden. Eine Studie der Hochschule Bergheim geht inzwischen von etwa 2.400 Fahrten pro Werktag aus, vor allem von Pendlern und Schülern."),
        ("ul", ["Neue Haltepunkte: Altenau Nord, Wiesental, Kirchdorf, Bergheim Süd", "Fahrradmitnahme kostenlos außerhalb der Hauptverkehrszeit", "Anschluss an den Fernverkehr in Bergheim Hauptbahnhof"]),
    ]),
    ("news-fr-musee", "news", "fr", "Le musée des beaux-arts rouvre après quatre ans de travaux", [
        ("p", "Fermé depuis l'automne 2020, le musée des beaux-arts de la ville rouvre ses portes samedi avec un parcours entièrement repensé et une nouvelle aile consacrée à la photographie."),
        ("p", "Les travaux, d'un montant de 31 millions d'euros, ont permis de remplacer la verrière du grand hall, d'installer une climatisation adaptée aux œuvres fragiles et de rendre l'ensemble des salles accessibles aux personnes à mobilité réduite."),
        ("p", "« Nous avons voulu un musée où l'on circule librement, sans sens de visite imposé », explique la directrice, Claire Dumont. Les collections sont désormais présentées par thèmes plutôt que par siècles."),
        ("h2", "Entrée gratuite le premier week-end"),
        ("p", "L'entrée sera gratuite samedi et dimanche. Ensuite, le billet coûtera 9 euros, avec un tarif réduit pour les étudiants et la gratuité pour les moins de dix-huit ans. Le musée sera ouvert du mardi au dimanche, de 10 heures à 18 heures, et jusqu'à 21 heures le jeudi."),
    ]),
    ("news-es-agua", "news", "es", "La comarca aprueba un plan para ahorrar agua en los regadíos", [
        ("p", "El consejo comarcal aprobó el jueves un plan que pretende reducir en un veinte por ciento el consumo de agua de los regadíos antes de 2030, tras tres años consecutivos de sequía."),
        ("p", "La medida principal es sustituir los canales de tierra por tuberías, lo que evitaría pérdidas por filtración que los técnicos calculan en casi un tercio del caudal. Además, se instalarán sensores de humedad en las parcelas de los agricultores que se adhieran voluntariamente."),
        ("p", "Las organizaciones agrarias valoraron el plan, aunque reclamaron que las ayudas lleguen también a las explotaciones pequeñas. «Un sensor cuesta lo mismo para diez hectáreas que para cien», señaló el portavoz de la unión de pequeños agricultores."),
        ("h2", "Calendario"),
        ("ol", ["2025: proyecto de las nuevas conducciones del canal norte.", "2026-2027: obras en el canal norte y en el ramal de la vega.", "2028: evaluación del ahorro y segunda fase."]),
        ("p", "El presupuesto total asciende a 47 millones de euros, de los que la mitad procede de fondos europeos."),
    ]),
    ("news-ru-library", "news", "ru", "В городской библиотеке открылся зал для работы с редкими книгами", [
        ("p", "В центральной городской библиотеке открылся читальный зал, где посетители могут работать с изданиями XVIII и XIX веков. Раньше эти книги выдавали только научным сотрудникам по специальному разрешению."),
        ("p", "Зал оборудован столами с подставками для книг, особым освещением и системой контроля влажности. Для работы нужно заранее записаться на сайте библиотеки и выбрать издания из электронного каталога."),
        ("p", "По словам директора библиотеки Ирины Смирновой, за первую неделю в зал записались более двухсот человек, в основном студенты и краеведы. Особым интересом пользуются старые карты губернии и подшивки местных газет."),
        ("h2", "Правила посещения"),
        ("ul", ["Запись не позднее чем за два дня до визита.", "Фотографировать можно без вспышки.", "Одновременно выдаётся не более пяти изданий."]),
    ]),
]

BLOGS = [
    ("blog-en-sourdough", "blog", "en", "What I learned from a year of baking sourdough every week", [
        ("p", "Last January I promised myself I would bake one loaf of sourdough every weekend for a year. I missed four weekends, burned two loaves badly enough to throw them away, and learned more about flour and patience than in the previous ten years of casual baking."),
        ("h2", "The starter matters less than you think"),
        ("p", "I spent the first month obsessing over my starter: feeding ratios, water temperature, the exact brand of rye flour. In the end the biggest difference came from simply using the starter at its peak, when it has doubled and the top is domed rather than collapsed."),
        ("h2", "Temperature matters more"),
        ("p", "My kitchen swings between 17 degrees in winter and 26 in summer. The same recipe that needed eight hours of bulk fermentation in February was over-proofed after four in July. I now write down the room temperature every time and adjust the timing, not the recipe."),
        ("ul", ["Keep notes: flour, hydration, room temperature, times.", "Use the poke test, not the clock.", "Bake in a preheated pot with the lid on for the first twenty minutes."]),
        ("p", "If you want to start, my advice is to pick one simple recipe, such as the [basic country loaf](/recipes/country-loaf), and bake it ten times before changing anything."),
    ]),
    ("blog-en-rust-errors", "blog", "en", "Why I stopped using unwrap in library code", [
        ("p", "For a long time my Rust libraries were full of `unwrap()` calls that I told myself were impossible to trigger. Then a user sent me a backtrace from a panic in a function I was sure could never fail."),
        ("p", "The input was a file name with invalid UTF-8, something my tests had never produced. The fix was small, but it made me rethink how I report errors."),
        ("pre", "fn read_config(path: &Path) -> Result<Config, ConfigError> {\n    let text = fs::read_to_string(path)\n        .map_err(|e| ConfigError::Io(path.to_owned(), e))?;\n    toml::from_str(&text).map_err(ConfigError::Parse)\n}"),
        ("p", "Returning a typed error costs a few lines, but the caller now decides what to do, and the message names the file at fault. I keep `expect` only for invariants that really are internal, and the message says which invariant was broken."),
        ("h2", "A checklist for reviews"),
        ("ol", ["Can this input come from outside the program?", "Does the error name the thing at fault?", "Would a caller want to recover from it?"]),
    ]),
    ("blog-de-wandern", "blog", "de", "Drei Tage auf dem Höhenweg: Tipps für Einsteiger", [
        ("p", "Im letzten Sommer bin ich zum ersten Mal eine mehrtägige Hüttentour gegangen. Drei Tage, rund 45 Kilometer und gut 2.500 Höhenmeter – für mich als Flachlandbewohnerin eine echte Herausforderung."),
        ("h2", "Packliste"),
        ("ul", ["Leichter Rucksack mit höchstens 35 Litern", "Regenjacke und warme Mütze, auch im August", "Hüttenschlafsack, der in vielen Hütten Pflicht ist", "Bargeld, weil oft keine Kartenzahlung möglich ist"]),
        ("p", "Am meisten unterschätzt habe ich den Abstieg. Nach dem zweiten Tag taten mir die Knie mehr weh als die Oberschenkel. Wanderstöcke haben danach viel geholfen."),
        ("p", "Die Hütten sollte man frühzeitig reservieren, besonders an Wochenenden. Wir haben im Februar gebucht und trotzdem nur noch Plätze im Matratzenlager bekommen."),
    ]),
    ("blog-fr-jardin", "blog", "fr", "Un potager sur le balcon : mon bilan après deux saisons", [
        ("p", "Quand j'ai emménagé dans un appartement avec un balcon de quatre mètres carrés, je ne pensais pas pouvoir y récolter autre chose que du basilic. Deux saisons plus tard, j'ai mangé mes propres tomates, des fraises et une quantité déraisonnable de radis."),
        ("h2", "Ce qui a marché"),
        ("p", "Les tomates cerises en grands pots de vingt litres, arrosées tous les soirs en été. Les radis, qui poussent en un mois et ne demandent presque rien. Les herbes aromatiques, évidemment."),
        ("h2", "Ce qui n'a pas marché"),
        ("p", "Les courgettes, beaucoup trop grandes pour l'espace, et les salades, qui montaient en graine dès les premières chaleurs. Le vent a aussi cassé deux tuteurs : il faut bien attacher les plantes."),
        ("p", "Mon conseil : commencez petit, avec trois ou quatre pots, et notez ce que vous semez et quand."),
    ]),
    ("blog-es-viaje", "blog", "es", "Cinco días en Lisboa sin coche", [
        ("p", "Lisboa es una ciudad de colinas, tranvías y escaleras, y la mejor manera de conocerla es a pie. Estos son mis apuntes de cinco días recorriéndola sin alquilar coche."),
        ("p", "El primer día subimos al castillo desde la Baixa por las calles de la Alfama. Conviene salir temprano: a partir de las once las colas para entrar son largas y el sol aprieta."),
        ("ul", ["Tarjeta de transporte recargable: la más práctica para metro, tranvía y ferry.", "El tranvía 28 va siempre lleno; mejor tomarlo en la cabecera.", "El ferry a Cacilhas ofrece la mejor vista de la ciudad por muy poco dinero."]),
        ("p", "Para comer, evitamos las calles más turísticas y buscamos tascas con menú del día. Por unos doce euros comimos sopa, pescado a la plancha y café."),
    ]),
    ("blog-it-caffe", "blog", "it", "Come ho imparato a usare la moka senza bruciare il caffè", [
        ("p", "Per anni il mio caffè con la moka aveva un sapore amaro e bruciato. Pensavo fosse colpa della miscela, invece il problema era il fuoco troppo alto."),
        ("p", "Adesso riempio la caldaia con acqua già calda fino alla valvola, metto il caffè nel filtro senza pressarlo e uso la fiamma più bassa. Appena il caffè comincia a uscire chiaro e schiumoso, tolgo la moka dal fuoco."),
        ("ol", ["Acqua calda nella caldaia, fino alla valvola.", "Caffè macinato medio, senza pressare.", "Fiamma bassa e coperchio aperto per controllare.", "Via dal fuoco prima del gorgoglio finale."]),
        ("p", "Il risultato è un caffè più dolce e rotondo. Provate per una settimana e poi ditemi se tornereste indietro."),
    ]),
]
