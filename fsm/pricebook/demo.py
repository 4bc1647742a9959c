"""The demo company's pricebook: about 150 plumbing, HVAC and electrical items at central-Texas prices.

Services are flat rate (the price of the task, whatever the time) with a member price about 15 % off;
materials are priced from their cost with a markup; equipment is priced by hand. Residential repair labour
is not taxed in Texas; parts and equipment are. Seeding goes through fsm.pricebook.services and skips
codes that exist, so running it again adds nothing.
"""

from decimal import Decimal

from .models import PricebookItem
from .services import ItemIn, item_create

MEMBER_SHARE = Decimal("0.85")
Kind = PricebookItem.Kind

# fmt: off
# code, name, category, price, cost (parts and labour), customer-facing description
SERVICES = [
    # Plumbing: water heaters
    ("WH-50G-GAS", "Water heater 50 gal gas replace", "Plumbing · Water heaters", "1895", "910",
     "Remove and haul away the old tank; install a new 50-gallon gas water heater with new flex connectors, "
     "T&P discharge line and expansion tank check; test and relight. Permit included."),
    ("WH-40G-GAS", "Water heater 40 gal gas replace", "Plumbing · Water heaters", "1745", "840",
     "Remove and haul away the old tank; install a new 40-gallon gas water heater, connectors and venting "
     "check; test and relight. Permit included."),
    ("WH-50G-ELEC", "Water heater 50 gal electric replace", "Plumbing · Water heaters", "1695", "790",
     "Remove and haul away the old tank; install a new 50-gallon electric water heater; test elements and "
     "thermostats. Permit included."),
    ("WH-TANKLESS", "Tankless water heater install (gas, up to 199k BTU)", "Plumbing · Water heaters",
     "4850", "2450", "Install a whole-home gas tankless water heater with isolation valves, venting and "
     "condensate line; remove the old tank."),
    ("WH-FLUSH", "Water heater flush and inspection", "Plumbing · Water heaters", "189", "45",
     "Drain and flush sediment, check the anode rod, T&P valve, burner or elements and venting."),
    ("WH-TANKLESS-DESCALE", "Tankless descale service", "Plumbing · Water heaters", "249", "60",
     "Isolate and descale the heat exchanger with a pump kit; clean the inlet filter; test."),
    ("WH-TP-VALVE", "T&P relief valve replace", "Plumbing · Water heaters", "229", "55",
     "Replace the temperature and pressure relief valve and test the discharge line."),
    ("WH-GAS-VALVE", "Water heater gas control valve replace", "Plumbing · Water heaters", "465", "190",
     "Replace the gas control valve / thermostat; relight and test."),
    # Plumbing: drains
    ("DR-MAIN", "Main line drain clear (cleanout access)", "Plumbing · Drains", "325", "70",
     "Clear the main sewer line through an accessible cleanout with a cable machine, up to 100 ft."),
    ("DR-MAIN-ROOF", "Main line drain clear (roof vent access)", "Plumbing · Drains", "445", "95",
     "Clear the main line through the roof vent when no cleanout is reachable."),
    ("DR-SINK", "Kitchen or bath sink drain clear", "Plumbing · Drains", "215", "40",
     "Clear a sink drain through the trap or wall opening; test the flow."),
    ("DR-TUB", "Tub or shower drain clear", "Plumbing · Drains", "225", "40",
     "Clear a tub or shower drain; clean the stopper assembly."),
    ("DR-TOILET", "Toilet auger / clog removal", "Plumbing · Drains", "195", "35",
     "Clear a clogged toilet with a closet auger; pull the toilet if needed (reset extra)."),
    ("DR-CAMERA", "Sewer camera inspection with video", "Plumbing · Drains", "395", "80",
     "Camera inspection of the main line with recording and a locate of any problem spot."),
    ("DR-HYDROJET", "Hydro-jet main line", "Plumbing · Drains", "695", "180",
     "High-pressure water jetting of the main line to remove grease and roots, up to 150 ft."),
    ("DR-CLEANOUT", "Install cleanout (exterior)", "Plumbing · Drains", "1295", "480",
     "Excavate and install a two-way exterior cleanout on the main line; backfill."),
    # Plumbing: fixtures
    ("FX-TOILET-INSTALL", "Toilet install (customer-supplied or ours)", "Plumbing · Fixtures", "345", "85",
     "Remove the old toilet; set the new one with a new wax ring, bolts and supply line."),
    ("FX-TOILET-REBUILD", "Toilet tank rebuild", "Plumbing · Fixtures", "245", "60",
     "Replace fill valve, flapper, flush valve seals and supply line."),
    ("FX-FAUCET-KITCHEN", "Kitchen faucet replace", "Plumbing · Fixtures", "295", "65",
     "Remove and install a kitchen faucet with new supply lines; test for leaks."),
    ("FX-FAUCET-BATH", "Bathroom faucet replace", "Plumbing · Fixtures", "265", "60",
     "Remove and install a lavatory faucet with new supply lines and drain assembly."),
    ("FX-DISPOSAL", "Garbage disposal replace (1/2 HP)", "Plumbing · Fixtures", "425", "165",
     "Install a new 1/2 HP garbage disposal with cord; haul away the old one."),
    ("FX-SHOWER-VALVE", "Shower valve cartridge replace", "Plumbing · Fixtures", "285", "70",
     "Replace the shower valve cartridge to stop a drip or fix temperature control."),
    ("FX-HOSE-BIB", "Hose bib replace (frost-free)", "Plumbing · Fixtures", "275", "65",
     "Replace an outdoor faucet with a frost-free hose bib and vacuum breaker."),
    ("FX-ICE-LINE", "Refrigerator ice maker line install", "Plumbing · Fixtures", "195", "40",
     "Run a new braided ice maker line with a quarter-turn valve."),
    # Plumbing: leaks and pipes
    ("LK-DETECT", "Leak detection (electronic)", "Plumbing · Leaks & pipes", "395", "70",
     "Locate a hidden water or slab leak with acoustic and thermal equipment; written findings."),
    ("LK-PIPE-REPAIR", "Pipe repair, accessible (up to 3 ft)", "Plumbing · Leaks & pipes", "345", "75",
     "Cut out and repair up to 3 feet of accessible copper, PEX or CPVC pipe."),
    ("LK-SLAB-REROUTE", "Slab leak reroute (one line)", "Plumbing · Leaks & pipes", "2450", "950",
     "Abandon the leaking line under the slab and reroute it through the attic or walls in PEX."),
    ("LK-PRV", "Pressure reducing valve replace", "Plumbing · Leaks & pipes", "645", "210",
     "Replace the main pressure reducing valve; set the house pressure to 55-60 psi."),
    ("LK-MAIN-SHUTOFF", "Main shutoff valve replace", "Plumbing · Leaks & pipes", "525", "150",
     "Replace the main water shutoff with a full-port ball valve."),
    ("LK-GAS-TEST", "Gas line pressure test", "Plumbing · Leaks & pipes", "275", "45",
     "Pressure test the gas system and find leaks with a detector; written results."),
    ("LK-REPIPE-PEX", "Whole-home repipe in PEX (up to 2 baths)", "Plumbing · Leaks & pipes", "6850", "3100",
     "Replace all water supply piping with PEX, new stops at each fixture; drywall patch not included."),
    # HVAC: diagnostics and maintenance
    ("HV-DIAG", "HVAC diagnostic visit", "HVAC · Diagnostics", "89", "25",
     "Diagnose the heating or cooling problem and give a flat-rate price before any work. Waived when we "
     "do the repair."),
    ("HV-DIAG-AFTER", "HVAC diagnostic, after hours", "HVAC · Diagnostics", "169", "45",
     "Evenings, weekends and holidays: diagnose the problem and price the repair up front."),
    ("HV-TUNE-AC", "AC tune-up (21 points)", "HVAC · Maintenance", "129", "30",
     "Clean the condenser coil, check refrigerant, capacitor, contactor and drain; measure the split."),
    ("HV-TUNE-HEAT", "Furnace tune-up and safety check", "HVAC · Maintenance", "129", "30",
     "Clean burners and flame sensor, check the heat exchanger, CO at the flue and gas pressure."),
    ("HV-COIL-CLEAN", "Evaporator coil cleaning", "HVAC · Maintenance", "395", "70",
     "Clean the indoor coil with foaming cleaner and rinse; clear the drain pan."),
    ("HV-DUCT-SEAL", "Duct sealing (per system)", "HVAC · Maintenance", "895", "260",
     "Seal accessible duct joints and boots with mastic; before and after leakage check."),
    # HVAC: repair
    ("HV-CAP", "Capacitor replace (dual run)", "HVAC · Repair", "285", "35",
     "Replace a failed run capacitor with a dual-run capacitor rated for the unit; test amps."),
    ("HV-CONTACTOR", "Contactor replace", "HVAC · Repair", "265", "35",
     "Replace the condenser contactor; check wiring and the low-voltage circuit."),
    ("HV-FAN-MOTOR", "Condenser fan motor replace", "HVAC · Repair", "645", "210",
     "Replace the outdoor fan motor and capacitor; check the blade and bearings."),
    ("HV-BLOWER-MOTOR", "Blower motor replace (PSC)", "HVAC · Repair", "795", "280",
     "Replace the indoor blower motor and its capacitor; set the speed taps."),
    ("HV-ECM-MOTOR", "Blower motor replace (ECM)", "HVAC · Repair", "1495", "640",
     "Replace a variable-speed ECM blower motor and program it for the system."),
    ("HV-IGNITER", "Furnace igniter replace", "HVAC · Repair", "325", "55",
     "Replace the hot surface igniter; test a full heating cycle."),
    ("HV-FLAME-SENSOR", "Flame sensor clean or replace", "HVAC · Repair", "195", "25",
     "Clean or replace the flame sensor; check the micro-amp reading."),
    ("HV-INDUCER", "Inducer motor replace", "HVAC · Repair", "895", "320",
     "Replace the furnace draft inducer motor and gasket; test the pressure switch."),
    ("HV-DRAIN-CLEAR", "Condensate drain clear", "HVAC · Repair", "165", "20",
     "Clear the condensate drain line with vacuum and flush; treat with tablets."),
    ("HV-FLOAT-SWITCH", "Float switch install", "HVAC · Repair", "225", "35",
     "Install a safety float switch that shuts the system off before the pan overflows."),
    ("HV-LEAK-SEARCH", "Refrigerant leak search", "HVAC · Repair", "395", "60",
     "Find the refrigerant leak with an electronic detector and bubbles; nitrogen test when needed."),
    ("HV-TXV", "TXV replace", "HVAC · Repair", "1295", "420",
     "Recover refrigerant, replace the expansion valve, new filter drier, evacuate and recharge."),
    ("HV-COMPRESSOR", "Compressor replace (up to 5 ton)", "HVAC · Repair", "3250", "1500",
     "Replace the compressor with new capacitor and filter drier; evacuate and recharge."),
    ("HV-THERMOSTAT", "Smart thermostat install", "HVAC · Repair", "345", "160",
     "Install and set up a Wi-Fi thermostat, with a C-wire adapter when needed."),
    # HVAC: installation
    ("HV-SYS-3T-16", "AC and furnace system 3 ton 16 SEER2", "HVAC · Installation", "11850", "6100",
     "Replace the condenser, evaporator coil and gas furnace with a matched 3-ton 16 SEER2 system; new "
     "line set flush, pad, disconnect, thermostat; permit and haul away. 10-year parts warranty."),
    ("HV-SYS-4T-16", "AC and furnace system 4 ton 16 SEER2", "HVAC · Installation", "13450", "6950",
     "Matched 4-ton 16 SEER2 system: condenser, coil and gas furnace; permit and haul away included."),
    ("HV-HP-3T", "Heat pump system 3 ton 15.2 SEER2", "HVAC · Installation", "12650", "6500",
     "Replace with a 3-ton heat pump and air handler with heat strips; permit and haul away included."),
    ("HV-MINISPLIT", "Ductless mini-split, single zone 12k", "HVAC · Installation", "4650", "2200",
     "Install a 12,000 BTU ductless heat pump with line set, disconnect and condensate pump."),
    # Electrical: service
    ("EL-DIAG", "Electrical diagnostic visit", "Electrical · Service", "99", "25",
     "Find the electrical problem and price the repair up front; waived when we do the repair."),
    ("EL-TROUBLESHOOT-HR", "Troubleshooting, additional hour", "Electrical · Service", "145", "45",
     "Hourly troubleshooting beyond the first hour for intermittent problems."),
    ("EL-GFCI", "GFCI outlet install or replace", "Electrical · Devices & lighting", "215", "35",
     "Install a tamper-resistant GFCI receptacle and test downstream outlets."),
    ("EL-OUTLET", "Outlet replace (standard)", "Electrical · Devices & lighting", "145", "15",
     "Replace a standard receptacle with a tamper-resistant one; check polarity and ground."),
    ("EL-OUTLET-NEW", "New outlet, existing wall", "Electrical · Devices & lighting", "365", "70",
     "Fish a new circuit extension and add a receptacle in a finished wall."),
    ("EL-SWITCH", "Switch replace (single pole)", "Electrical · Devices & lighting", "135", "12",
     "Replace a light switch."),
    ("EL-DIMMER", "Dimmer switch install", "Electrical · Devices & lighting", "185", "35",
     "Install an LED-compatible dimmer."),
    ("EL-FIXTURE", "Light fixture install", "Electrical · Devices & lighting", "225", "25",
     "Hang and connect a light fixture up to 50 lb on an existing box."),
    ("EL-FAN", "Ceiling fan install with fan-rated box", "Electrical · Devices & lighting", "345", "60",
     "Install a ceiling fan, replacing the box with a fan-rated brace if needed."),
    ("EL-RECESSED-4", "Recessed LED lights, set of 4", "Electrical · Devices & lighting", "895", "210",
     "Cut in and wire four 6-inch LED wafer lights on one switch in an accessible ceiling."),
    ("EL-SMOKE", "Smoke/CO detector replace (hard-wired)", "Electrical · Devices & lighting", "145", "45",
     "Replace a hard-wired smoke or combination smoke/CO alarm; test the interconnect."),
    ("EL-BREAKER", "Breaker replace (single pole)", "Electrical · Panels", "245", "35",
     "Replace a failed single-pole breaker; torque connections."),
    ("EL-AFCI", "AFCI breaker upgrade (per circuit)", "Electrical · Panels", "295", "75",
     "Replace a breaker with a combination AFCI breaker; find and fix nuisance trips."),
    ("EL-PANEL-200", "Panel upgrade to 200 A", "Electrical · Panels", "3850", "1650",
     "Replace the main panel with a 200-amp panel, new breakers, grounding and bonding; permit, utility "
     "coordination and inspection included."),
    ("EL-PANEL-TIGHTEN", "Panel safety inspection and tighten", "Electrical · Panels", "189", "30",
     "Inspect the panel, torque lugs, check for double taps and heat damage; written report."),
    ("EL-SURGE", "Whole-home surge protector install", "Electrical · Panels", "465", "150",
     "Install a type 2 surge protective device at the main panel."),
    ("EL-CIRCUIT-20A", "Dedicated 20 A circuit (up to 50 ft)", "Electrical · Panels", "645", "150",
     "Run a new 20-amp circuit from the panel for an appliance, up to 50 feet in an accessible path."),
    ("EL-EV-240", "EV charger circuit 240 V / 50 A", "Electrical · EV & generators", "1295", "380",
     "Run a 50-amp 240 V circuit and a NEMA 14-50 outlet, or hard-wire the charger; permit included."),
    ("EL-GEN-INLET", "Generator inlet and interlock kit", "Electrical · EV & generators", "1150", "340",
     "Install a 30-amp power inlet box and panel interlock for a portable generator; permit included."),
    ("EL-GEN-STANDBY", "Standby generator install 22 kW", "Electrical · EV & generators", "12950", "7600",
     "Install a 22 kW standby generator with automatic transfer switch, pad, gas connection and permit."),
]

# code, name, category, unit, cost, markup %
MATERIALS = [
    ("M-PEX-12", "PEX-A pipe 1/2 in", "Plumbing materials", "ft", "0.62", "100"),
    ("M-PEX-34", "PEX-A pipe 3/4 in", "Plumbing materials", "ft", "1.05", "100"),
    ("M-PEX-EXP-12", "PEX expansion fitting 1/2 in", "Plumbing materials", "each", "2.10", "150"),
    ("M-CU-12", "Copper pipe type L 1/2 in", "Plumbing materials", "ft", "3.85", "75"),
    ("M-CU-34", "Copper pipe type L 3/4 in", "Plumbing materials", "ft", "6.40", "75"),
    ("M-SB-COUP-12", "Push-fit coupling 1/2 in", "Plumbing materials", "each", "7.25", "100"),
    ("M-SB-COUP-34", "Push-fit coupling 3/4 in", "Plumbing materials", "each", "10.90", "100"),
    ("M-BALL-12", "Ball valve 1/2 in full port", "Plumbing materials", "each", "11.40", "100"),
    ("M-BALL-34", "Ball valve 3/4 in full port", "Plumbing materials", "each", "16.80", "100"),
    ("M-STOP-ANGLE", "Angle stop 1/2 x 3/8 quarter-turn", "Plumbing materials", "each", "8.75", "125"),
    ("M-SUPPLY-TOILET", "Toilet supply line braided 12 in", "Plumbing materials", "each", "5.60", "150"),
    ("M-SUPPLY-FAUCET", "Faucet supply line braided 20 in", "Plumbing materials", "each", "6.20", "150"),
    ("M-WAX-RING", "Wax ring with horn and bolts", "Plumbing materials", "each", "6.95", "150"),
    ("M-FILL-VALVE", "Toilet fill valve", "Plumbing materials", "each", "11.25", "125"),
    ("M-FLAPPER", "Toilet flapper 3 in", "Plumbing materials", "each", "7.80", "125"),
    ("M-PTRAP-15", "P-trap PVC 1-1/2 in", "Plumbing materials", "each", "6.40", "125"),
    ("M-PVC-2", "PVC DWV pipe 2 in", "Plumbing materials", "ft", "1.90", "100"),
    ("M-PVC-3", "PVC DWV pipe 3 in", "Plumbing materials", "ft", "3.10", "100"),
    ("M-FERNCO-3", "Flexible coupling 3 in", "Plumbing materials", "each", "9.85", "100"),
    ("M-GAS-FLEX-24", "Gas flex connector 24 in", "Plumbing materials", "each", "21.50", "100"),
    ("M-EXP-TANK", "Thermal expansion tank 2 gal", "Plumbing materials", "each", "48.00", "80"),
    ("M-ANODE", "Water heater anode rod (magnesium)", "Plumbing materials", "each", "32.00", "100"),
    ("M-DRAIN-PAN", "Water heater drain pan 24 in", "Plumbing materials", "each", "18.50", "100"),
    ("M-TEFLON", "Thread sealant tape and dope", "Plumbing materials", "each", "3.40", "100"),
    ("M-CAP-4045", "Dual run capacitor 40/5 MFD", "HVAC materials", "each", "18.50", "100"),
    ("M-CAP-4575", "Dual run capacitor 45/5 MFD", "HVAC materials", "each", "19.75", "100"),
    ("M-CONT-2P", "Contactor 2-pole 40 A", "HVAC materials", "each", "16.90", "100"),
    ("M-FILTER-16", "Pleated filter 16x25x1 MERV 8", "HVAC materials", "each", "7.80", "100"),
    ("M-FILTER-20", "Pleated filter 20x25x1 MERV 8", "HVAC materials", "each", "8.40", "100"),
    ("M-FILTER-4IN", "Media filter 20x25x4 MERV 11", "HVAC materials", "each", "32.00", "80"),
    ("M-R410A", "Refrigerant R-410A", "HVAC materials", "lb", "14.50", "100"),
    ("M-LINESET-38", "Line set 3/8 x 3/4 insulated", "HVAC materials", "ft", "4.20", "90"),
    ("M-DRIER", "Filter drier 3/8 in", "HVAC materials", "each", "14.25", "100"),
    ("M-PVC-34-COND", "Condensate PVC 3/4 in", "HVAC materials", "ft", "0.85", "125"),
    ("M-FLOAT-SW", "Condensate float switch", "HVAC materials", "each", "17.50", "100"),
    ("M-PAN-TABS", "Condensate pan tablets (6)", "HVAC materials", "each", "6.25", "120"),
    ("M-IGNITER", "Hot surface igniter (universal)", "HVAC materials", "each", "24.00", "100"),
    ("M-FLAME-SENSOR", "Flame sensor (universal)", "HVAC materials", "each", "11.50", "100"),
    ("M-THERMOSTAT-WIFI", "Wi-Fi thermostat", "HVAC materials", "each", "135.00", "60"),
    ("M-DUCT-6", "Flex duct R8 6 in", "HVAC materials", "ft", "2.35", "100"),
    ("M-MASTIC", "Duct mastic 1 gal", "HVAC materials", "each", "17.80", "90"),
    ("M-PAD-CONDENSER", "Condenser pad 36 x 36", "HVAC materials", "each", "38.00", "80"),
    ("M-NM-14", "NM-B cable 14/2", "Electrical materials", "ft", "0.58", "100"),
    ("M-NM-12", "NM-B cable 12/2", "Electrical materials", "ft", "0.82", "100"),
    ("M-NM-6-3", "NM-B cable 6/3", "Electrical materials", "ft", "4.60", "80"),
    ("M-THHN-10", "THHN wire 10 AWG", "Electrical materials", "ft", "0.45", "100"),
    ("M-OUTLET-TR", "Receptacle 15 A tamper-resistant", "Electrical materials", "each", "2.40", "150"),
    ("M-OUTLET-GFCI", "GFCI receptacle 20 A", "Electrical materials", "each", "19.80", "100"),
    ("M-SWITCH-SP", "Switch single pole 15 A", "Electrical materials", "each", "2.10", "150"),
    ("M-DIMMER", "LED dimmer switch", "Electrical materials", "each", "24.50", "100"),
    ("M-BOX-OLD", "Old-work box 1-gang", "Electrical materials", "each", "1.60", "150"),
    ("M-BOX-FAN", "Fan-rated brace and box", "Electrical materials", "each", "21.00", "100"),
    ("M-BRK-15", "Breaker 15 A single pole", "Electrical materials", "each", "9.40", "100"),
    ("M-BRK-20", "Breaker 20 A single pole", "Electrical materials", "each", "9.60", "100"),
    ("M-BRK-AFCI", "Breaker 20 A combination AFCI", "Electrical materials", "each", "48.50", "80"),
    ("M-BRK-50-2P", "Breaker 50 A double pole", "Electrical materials", "each", "21.00", "100"),
    ("M-WAFER-6", "LED wafer light 6 in", "Electrical materials", "each", "14.75", "100"),
    ("M-SMOKE-CO", "Smoke/CO alarm hard-wired", "Electrical materials", "each", "42.00", "80"),
    ("M-WIRENUTS", "Wire connectors (box of 25)", "Electrical materials", "each", "6.80", "100"),
    ("M-1450-OUTLET", "NEMA 14-50 receptacle", "Electrical materials", "each", "18.90", "100"),
]

# code, name, category, price, cost, customer-facing description
EQUIPMENT = [
    ("E-WH-50-GAS", "Water heater 50 gal gas, 6-yr", "Water heaters", "1150", "685",
     "50-gallon atmospheric vent gas water heater, 40,000 BTU, 6-year tank warranty."),
    ("E-WH-40-GAS", "Water heater 40 gal gas, 6-yr", "Water heaters", "1025", "610",
     "40-gallon atmospheric vent gas water heater, 6-year tank warranty."),
    ("E-WH-50-ELEC", "Water heater 50 gal electric, 6-yr", "Water heaters", "895", "520",
     "50-gallon electric water heater, 4,500 W elements, 6-year tank warranty."),
    ("E-WH-TANKLESS", "Tankless water heater 199k BTU", "Water heaters", "2650", "1480",
     "Condensing gas tankless water heater, 199,000 BTU, 11 GPM, 12-year heat exchanger warranty."),
    ("E-DISPOSAL-12", "Garbage disposal 1/2 HP", "Plumbing equipment", "185", "98",
     "1/2 HP continuous-feed garbage disposal with power cord."),
    ("E-DISPOSAL-34", "Garbage disposal 3/4 HP", "Plumbing equipment", "295", "165",
     "3/4 HP continuous-feed disposal, quiet grind, stainless chamber."),
    ("E-TOILET-EL", "Toilet elongated comfort height", "Plumbing equipment", "325", "175",
     "Two-piece elongated comfort-height toilet, 1.28 gpf, with seat."),
    ("E-SUMP-13", "Sump pump 1/3 HP", "Plumbing equipment", "295", "150",
     "1/3 HP submersible sump pump with vertical float switch."),
    ("E-PRV-34", "Pressure reducing valve 3/4 in", "Plumbing equipment", "265", "135",
     "3/4-inch lead-free pressure reducing valve with union connections."),
    ("E-SOFTENER", "Water softener 48k grain", "Plumbing equipment", "1895", "980",
     "48,000-grain metered water softener with bypass valve."),
    ("E-COND-3T", "Condenser 3 ton 16 SEER2", "HVAC equipment", "3650", "2050",
     "3-ton 16 SEER2 R-410A air conditioner condenser, 10-year parts warranty when registered."),
    ("E-COND-4T", "Condenser 4 ton 16 SEER2", "HVAC equipment", "4150", "2350",
     "4-ton 16 SEER2 R-410A air conditioner condenser, 10-year parts warranty when registered."),
    ("E-COIL-3T", "Evaporator coil 3 ton cased", "HVAC equipment", "1450", "780",
     "Cased evaporator coil for 3-ton systems with TXV."),
    ("E-COIL-4T", "Evaporator coil 4 ton cased", "HVAC equipment", "1650", "890",
     "Cased evaporator coil for 4-ton systems with TXV."),
    ("E-FURN-80-60", "Gas furnace 80 % 60k BTU", "HVAC equipment", "2150", "1150",
     "80 % AFUE single-stage gas furnace, 60,000 BTU, multi-position."),
    ("E-FURN-96-80", "Gas furnace 96 % 80k BTU two-stage", "HVAC equipment", "3450", "1850",
     "96 % AFUE two-stage variable-speed gas furnace, 80,000 BTU."),
    ("E-HP-3T", "Heat pump 3 ton 15.2 SEER2", "HVAC equipment", "4250", "2400",
     "3-ton heat pump outdoor unit, 15.2 SEER2 / 7.8 HSPF2."),
    ("E-AH-3T", "Air handler 3 ton with 8 kW heat", "HVAC equipment", "2250", "1250",
     "Multi-position air handler with variable-speed blower and 8 kW heat strip."),
    ("E-MINI-12K", "Mini-split 12k BTU heat pump", "HVAC equipment", "2450", "1350",
     "12,000 BTU ductless wall-mount heat pump, 20 SEER2, with remote."),
    ("E-UV-LIGHT", "UV air purifier (coil mount)", "HVAC equipment", "795", "320",
     "Coil-mounted UV-C light that keeps the coil clean and reduces mold."),
    ("E-MEDIA-CAB", "Media filter cabinet 20x25x4", "HVAC equipment", "395", "165",
     "Media air cleaner cabinet with a MERV 11 filter, installed at the return."),
    ("E-PANEL-200", "Load center 200 A, 40 spaces", "Electrical equipment", "695", "360",
     "200-amp main breaker load center, 40 spaces, indoor."),
    ("E-SURGE-T2", "Surge protective device type 2", "Electrical equipment", "245", "120",
     "Whole-home type 2 surge protector, 50 kA."),
    ("E-EV-CHARGER", "EV charger level 2, 48 A", "Electrical equipment", "695", "420",
     "Level 2 Wi-Fi EV charger, 48 amp, hard-wired, 25-ft cable."),
    ("E-GEN-22KW", "Standby generator 22 kW", "Electrical equipment", "6850", "4650",
     "22 kW air-cooled standby generator with 200 A automatic transfer switch."),
    ("E-INTERLOCK", "Generator interlock kit", "Electrical equipment", "165", "75",
     "Panel-specific generator interlock kit."),
    ("E-INLET-30", "Power inlet box 30 A", "Electrical equipment", "145", "68",
     "30-amp L14-30 power inlet box, weatherproof."),
    ("E-FAN-52", "Ceiling fan 52 in with LED light", "Electrical equipment", "265", "140",
     "52-inch ceiling fan with LED light kit and remote."),
]
# fmt: on
UNITS = {"EL-TROUBLESHOOT-HR": "hour"}  # services are per job unless named here


def _money(text: str) -> Decimal:
    return Decimal(text).quantize(Decimal("0.01"))


def _member(price: str) -> Decimal:
    return (_money(price) * MEMBER_SHARE).quantize(Decimal("1"))


def demo_items() -> list[ItemIn]:
    items = [
        ItemIn(code=code, name=name, kind=Kind.SERVICE, category=category, price=price, cost=cost,
               member_price=_member(price), description=text, taxable=False, unit=UNITS.get(code, "each"))
        for code, name, category, price, cost, text in SERVICES
    ]  # fmt: skip
    items += [
        ItemIn(code=code, name=name, kind=Kind.MATERIAL, category=category, unit=unit, cost=cost,
               markup_percent=markup)
        for code, name, category, unit, cost, markup in MATERIALS
    ]  # fmt: skip
    items += [
        ItemIn(code=code, name=name, kind=Kind.EQUIPMENT, category=category, price=price, cost=cost,
               description=text)
        for code, name, category, price, cost, text in EQUIPMENT
    ]  # fmt: skip
    return items


def seed_pricebook(*, log=lambda *_: None) -> int:
    """Add the demo items whose codes are not in the pricebook yet; return how many were added."""
    existing = {code.lower() for code in PricebookItem.objects.values_list("code", flat=True)}
    added = 0
    for data in demo_items():
        if data.code.lower() not in existing:
            item_create(data=data, actor=None)
            added += 1
    log(f"Pricebook: {added} items added ({len(existing) + added} in all).")
    return added
